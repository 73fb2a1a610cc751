#pragma once
// Magnitudes as integers, the currency of the SIMD kernels (simd_masks-inl.hpp): for finite
// values the order of |v| is the order of these bits, and NaN or infinity is at least the bits of
// +infinity. Plain C++: usable in any translation unit, for any instruction set.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace gradcomp::simd {

// The kernels work on blocks of 64 elements, returned as 64-bit masks (bit j ↔ element j).
inline constexpr std::size_t kBlock = 64;

template <class T>
using MagnitudeBits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;

// |v| as an integer.
template <class T>
MagnitudeBits<T> magnitude_bits(T value) {
  using Bits = MagnitudeBits<T>;
  return std::bit_cast<Bits>(value) & (~Bits{0} >> 1);
}

template <class T>
inline constexpr MagnitudeBits<T> kInfinityBits = std::is_same_v<T, float>
                                                      ? MagnitudeBits<T>(0x7F800000U)
                                                      : MagnitudeBits<T>(0x7FF0000000000000ULL);

}  // namespace gradcomp::simd
