#pragma once
// IEEE 754 binary16 conversion, round to nearest even, written with integer operations so the
// compiler can vectorise it and the result does not depend on the instruction set.
#include <bit>
#include <cstdint>

namespace gradcomp {

inline constexpr float kHalfMax = 65504.0F;

inline std::uint16_t float_to_half(float value) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000U;
  bits &= 0x7FFFFFFFU;
  std::uint32_t result;
  if (bits >= 0x47800000U) {  // ≥ 65536 after rounding range, Inf or NaN
    result = bits > 0x7F800000U ? 0x7E00U : 0x7C00U;
  } else if (bits < 0x38800000U) {  // result is subnormal or zero: let the FPU round
    // Adding 0.5 aligns the half's subnormal grid with the float's last mantissa bits.
    const float shifted = std::bit_cast<float>(bits) + 0.5F;
    result = std::bit_cast<std::uint32_t>(shifted) - 0x3F000000U;
  } else {
    const std::uint32_t mantissa_odd = (bits >> 13) & 1U;
    bits += 0xC8000FFFU + mantissa_odd;  // rebias exponent (−112 << 23) and round half to even
    result = bits >> 13;
  }
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
