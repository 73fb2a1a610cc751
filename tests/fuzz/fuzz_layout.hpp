#pragma once
// The layouts the decoder fuzz targets decode with, shared with the seed-corpus generator so the
// seeds are messages the target's decoder accepts. The first byte of an input chooses one.
#include <array>
#include <cstdint>

#include "gradcomp/core/layout.hpp"

namespace gradcomp::fuzzing {

inline constexpr std::size_t kLayoutCount = 4;

// 0: layers of 30, 7, 0 and 11 elements (an empty layer among them); 1: one 1-element layer;
// 2: 1-element layers around an empty one (1, 0, 3, 1); 3: a 16 x 16 matrix, a 2 x 2 x 2 tensor
// and a scalar (265 elements: long index gaps, a PowerSGD factor of rank > 1 possible).
inline const std::array<Layout, kLayoutCount>& fuzz_layouts() {
  static const std::array<Layout, kLayoutCount> layouts = {
      Layout::from_shapes({{6, 5}, {7}, {0}, {11}}),
      Layout::from_shapes({{1}}),
      Layout::from_shapes({{1}, {0}, {3}, {1}}),
      Layout::from_shapes({{16, 16}, {2, 2, 2}, {1}}),
  };
  return layouts;
}

// An input's first byte: bit 0 says whether the target puts a valid header in front of the rest
// (set) or decodes the rest as it is; bits 1-2 choose the layout. Seeds are whole messages.
inline constexpr std::uint8_t kValidHeaderBit = 1;
inline std::size_t layout_index_of(std::uint8_t first_byte) {
  return (first_byte >> 1U) % kLayoutCount;
}
inline std::uint8_t whole_message_on(std::size_t layout_index) {
  return static_cast<std::uint8_t>(layout_index << 1U);
}

}  // namespace gradcomp::fuzzing
