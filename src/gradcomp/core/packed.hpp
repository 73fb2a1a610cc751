#pragma once
// Fixed-width bit fields packed back to back, least significant bit first: the quantizers' levels
// (QSGD, stochastic rounding). Faster than BitWriter for long runs of equal-width fields.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "gradcomp/core/bit_stream.hpp"

namespace gradcomp {

inline std::size_t packed_bytes(std::size_t count, unsigned width) {
  return (count * width + 7) / 8;
}

// Appends `count` fields of `width` ≤ 32 bits produced by field(i).
template <class Field>
void append_packed(std::vector<std::uint8_t>& out, std::size_t count, unsigned width,
                   Field&& field) {
  const std::size_t at = out.size();
  out.resize(at + packed_bytes(count, width) + 4);  // 4 bytes of slack for the last word
  std::uint8_t* dst = out.data() + at;
  std::uint64_t accumulator = 0;
  unsigned filled = 0;
  for (std::size_t i = 0; i < count; ++i) {
    accumulator |= std::uint64_t{field(i)} << filled;
    filled += width;
    if (filled >= 32) {
      const auto word = static_cast<std::uint32_t>(accumulator);
      std::memcpy(dst, &word, 4);
      dst += 4;
      accumulator >>= 32;
      filled -= 32;
    }
  }
  const auto word = static_cast<std::uint32_t>(accumulator);
  std::memcpy(dst, &word, 4);
  out.resize(at + packed_bytes(count, width));
}

// Reads `count` fields of `width` bits and calls sink(i, field).
template <class Sink>
void read_packed(ByteReader& reader, std::size_t count, unsigned width, Sink&& sink) {
  const auto bytes = reader.take(packed_bytes(count, width), "packed fields");
  const std::uint64_t mask = BitWriter::mask(width);
  std::size_t bit = 0;
  for (std::size_t i = 0; i < count; ++i, bit += width) {
    std::uint64_t window = 0;
    const std::size_t byte = bit >> 3;
    std::memcpy(&window, bytes.data() + byte, std::min<std::size_t>(8, bytes.size() - byte));
    sink(i, static_cast<std::uint32_t>((window >> (bit & 7)) & mask));
  }
}

}  // namespace gradcomp
