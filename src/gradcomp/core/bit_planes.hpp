#pragma once
// Bit-plane sections, the quantizers' level format (docs/wire-format.md): `width` planes of
// `count` bits, plane b at byte offset b·⌈count/8⌉ holding bit b of every field. Writing them is
// vector code (bit_planes-inl.hpp, BitPlaneWriter); reading them is here.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/magnitude.hpp"

namespace gradcomp {

namespace simd {
inline std::size_t plane_bytes(std::size_t count) {
  return (count + 7) / 8;
}
}  // namespace simd

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
