#pragma once
// Bit-plane sections, the quantizers' level format (docs/wire-format.md): `width` planes of
// `count` bits, plane b at byte offset b·⌈count/8⌉ holding bit b of every field. Writing them is
// vector code (bit_planes-inl.hpp, BitPlaneWriter); reading them is here.
#include <algorithm>
#include <bit>
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

// Reads a bit-plane section and calls sink(start, fields, n) for each block of n ≤ 64 elements,
// fields[j] being element start + j's field. The fields of a block are assembled a plane word at a
// time (a shift, a mask and an or for all 64 lanes: vector code) instead of bit by bit per
// element.
template <class Sink>
void read_bit_plane_blocks(ByteReader& reader, std::size_t count, unsigned width, Sink&& sink) {
  const std::size_t plane = simd::plane_bytes(count);
  const auto bytes = reader.take(plane * width, "bit planes");
  alignas(64) std::uint32_t fields[simd::kBlock];
  for (std::size_t start = 0; start < count; start += simd::kBlock) {
    std::fill(fields, fields + simd::kBlock, 0U);
    const std::size_t byte = start / 8;
    const std::size_t take = std::min<std::size_t>(8, plane - byte);
    for (unsigned b = 0; b < width; ++b) {
      std::uint64_t word = 0;
      std::memcpy(&word, bytes.data() + b * plane + byte, take);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      for (std::size_t j = 0; j < simd::kBlock; ++j) {
        fields[j] |= static_cast<std::uint32_t>((word >> j) & 1U) << b;
      }
    }
    sink(start, static_cast<const std::uint32_t*>(fields), std::min(simd::kBlock, count - start));
  }
}

}  // namespace gradcomp
