#pragma once
// FNV-1a, 64 bits: the fingerprints that let two ranks (or a cache and a run) notice that they
// hold different layouts, settings or data. Not a cryptographic hash: it guards against mistakes,
// not against an adversary.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace gradcomp {

class FnvHash {
 public:
  FnvHash& add_bytes(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) {
      hash_ ^= p[i];
      hash_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  // Bulk data (a data set's contents): FNV-1a's step over 64-bit little-endian words, then the
  // tail byte by byte — eight times faster than add_bytes on 120 MB, and a different value.
  FnvHash& add_words(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + i, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      hash_ ^= word;
      hash_ *= 0x100000001b3ULL;
    }
    return add_bytes(p + i, bytes - i);
  }
  template <class T>
  FnvHash& add_words(std::span<const T> values) {
    return add_words(values.data(), values.size_bytes());
  }
  FnvHash& add_text(std::string_view text) { return add_bytes(text.data(), text.size()); }
  template <class T>
  FnvHash& add_span(std::span<const T> values) {
    return add_bytes(values.data(), values.size_bytes());
  }
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace gradcomp
