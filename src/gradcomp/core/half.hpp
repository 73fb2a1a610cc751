#pragma once
// IEEE 754 binary16 conversion, round to nearest even, written with integer operations so the
// compiler can vectorise it and the result does not depend on the instruction set.
#include <bit>
#include <cstdint>

namespace gradcomp {

inline constexpr float kHalfMax = 65504.0F;

inline std::uint16_t float_to_half(float value) {
  // All three cases are computed and one is selected, so a loop over this vectorises.
  std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000U;
  bits &= 0x7FFFFFFFU;
  // ≥ 65536 (or rounding up to it), Inf or NaN.
  const std::uint32_t special = bits > 0x7F800000U ? 0x7E00U : 0x7C00U;
  // The result is subnormal or zero: adding 0.5 aligns the half's subnormal grid with the float's
  // last mantissa bits, and the FPU rounds to nearest even.
  const float shifted = std::bit_cast<float>(bits) + 0.5F;
  const std::uint32_t subnormal = std::bit_cast<std::uint32_t>(shifted) - 0x3F000000U;
  // Normal: rebias the exponent (−112 << 23) and round half to even on the dropped 13 bits.
  const std::uint32_t normal = (bits + 0xC8000FFFU + ((bits >> 13) & 1U)) >> 13;
  std::uint32_t result = bits < 0x38800000U ? subnormal : normal;
  result = bits >= 0x47800000U ? special : result;
  return static_cast<std::uint16_t>(result | sign);
}

inline float half_to_float(std::uint16_t half) {
  const std::uint32_t sign = std::uint32_t{half & 0x8000U} << 16;
  const std::uint32_t exponent = half & 0x7C00U;
  const std::uint32_t mantissa = half & 0x03FFU;
  std::uint32_t bits;
  if (exponent == 0x7C00U) {
    bits = 0x7F800000U | (mantissa << 13);
  } else if (exponent != 0) {
    bits = ((exponent + 0x1C000U) << 13) | (mantissa << 13);
  } else {
    // Subnormal half: exact value mantissa · 2^−24.
    const float magnitude = static_cast<float>(mantissa) * 0x1.0p-24F;
    bits = std::bit_cast<std::uint32_t>(magnitude);
  }
  return std::bit_cast<float>(bits | sign);
}

}  // namespace gradcomp
