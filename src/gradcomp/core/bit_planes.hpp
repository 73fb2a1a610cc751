#pragma once
// Bit-plane sections, the quantizers' level format (docs/wire-format.md): `width` planes of
// `count` bits, plane b at byte offset b·⌈count/8⌉ holding bit b of every field. Fields are fed
// 64 at a time in element order.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/simd_masks.hpp"

namespace gradcomp {

namespace simd {
// Bit-plane packing of fixed-width fields (the quantizers' wire format, docs/wire-format.md):
// plane b holds bit b of every field, one bit per element, planes stored one after another, each
// ⌈n/8⌉ bytes. Transposing 64 fields at a time into `width` 64-bit words is a handful of vector
// compares, where packing fields back to back costs a shift per field.
inline std::size_t plane_bytes(std::size_t count) {
  return (count + 7) / 8;
}

// ORs bit b of the lanes of v, shifted to position `lane0`, into words[b], for b < width.
template <class V>
void add_planes(V v, unsigned width, std::size_t lane0, std::uint64_t* words) {
  const hn::DFromV<V> d;
  for (unsigned b = 0; b < width; ++b) {
    words[b] |= detail::mask_bits(d, hn::TestBit(v, hn::Set(d, 1U << b))) << lane0;
  }
}

// Writes bit b of fields[0..64) as 64-bit word words[b], for b < width.
inline void transpose_block(const std::uint32_t* fields, unsigned width, std::uint64_t* words) {
  const hn::ScalableTag<std::uint32_t> d;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  for (unsigned b = 0; b < width; ++b) words[b] = 0;
  for (std::size_t i = 0; i < kBlock; i += kLanes)
    add_planes(hn::LoadU(d, fields + i), width, i, words);
}
}  // namespace simd

class BitPlaneWriter {
 public:
  BitPlaneWriter(std::vector<std::uint8_t>& out, std::size_t count, unsigned width)
      : width_(width), plane_(simd::plane_bytes(count)), at_(out.size()) {
    out.resize(at_ + plane_ * width_);
    base_ = out.data() + at_;
  }
  // fields[0..n) are elements [start, start + n); start is a multiple of 64, n ≤ 64.
  void put_block(std::size_t start, const std::uint32_t* fields, std::size_t n) {
    std::uint32_t padded[simd::kBlock];
    if (n < simd::kBlock) {
      std::memcpy(padded, fields, n * 4);
      std::fill(padded + n, padded + simd::kBlock, 0U);
      fields = padded;
    }
    std::uint64_t words[32];
    simd::transpose_block(fields, width_, words);
    put_words(start, words);
  }
  // words[b] holds bit b of the fields of elements [start, start + 64); start is a multiple of 64.
  void put_words(std::size_t start, const std::uint64_t* words) {
    const std::size_t byte = start / 8;
    if (byte + 8 <= plane_) {  // a whole word: a fixed-size copy is one store, not a call
      for (unsigned b = 0; b < width_; ++b) std::memcpy(base_ + b * plane_ + byte, &words[b], 8);
      return;
    }
    const std::size_t bytes = plane_ - byte;
    for (unsigned b = 0; b < width_; ++b) std::memcpy(base_ + b * plane_ + byte, &words[b], bytes);
  }

 private:
  unsigned width_;
  std::size_t plane_;
  std::size_t at_;
  std::uint8_t* base_;
};

// Reads a bit-plane section and calls sink(i, field) for every element.
template <class Sink>
void read_bit_planes(ByteReader& reader, std::size_t count, unsigned width, Sink&& sink) {
  const std::size_t plane = simd::plane_bytes(count);
  const auto bytes = reader.take(plane * width, "bit planes");
  for (std::size_t start = 0; start < count; start += simd::kBlock) {
    std::uint64_t words[32] = {};
    const std::size_t byte = start / 8;
    const std::size_t take = std::min<std::size_t>(8, plane - byte);
    for (unsigned b = 0; b < width; ++b)
      std::memcpy(&words[b], bytes.data() + b * plane + byte, take);
    const std::size_t n = std::min(simd::kBlock, count - start);
    for (std::size_t j = 0; j < n; ++j) {
      std::uint32_t field = 0;
      for (unsigned b = 0; b < width; ++b)
        field |= static_cast<std::uint32_t>((words[b] >> j) & 1U) << b;
      sink(start + j, field);
    }
  }
}

}  // namespace gradcomp
