// Vector kernels of the stochastic quantizers for float input, whole 64-element blocks. Only exact
// IEEE operations (no fused multiply-add), so every instruction set gives the same levels.
// A per-target header (core/simd_masks-inl.hpp says why).
#if defined(GRADCOMP_COMPRESS_QUANTIZE_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRADCOMP_COMPRESS_QUANTIZE_KERNELS_INL_H_
#undef GRADCOMP_COMPRESS_QUANTIZE_KERNELS_INL_H_
#else
#define GRADCOMP_COMPRESS_QUANTIZE_KERNELS_INL_H_
#endif

#include <hwy/highway.h>

#include <array>
#include <cstdint>
#include <utility>

#include "gradcomp/core/bit_planes-inl.hpp"
#include "gradcomp/core/prefetch.hpp"
#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::simd::HWY_NAMESPACE {

// QSGD levels of 64 float coordinates (docs/compressors.md §2.3.11), as fields level + s, delivered
// r = min(s, |v|·s/‖v‖), l = ⌊r⌋ (s − 1 when r = s), l + 1 with probability r − l. In float, with
// 24-bit uniforms (the top bits of u): the resolution of the rounding probability is 2^−24.
// As bit planes: words[b] receives bit b of the 64 fields (bit_planes.hpp), straight from the
// registers.
template <unsigned kWidth>
void qsgd_planes(const float* v, float scale, std::uint32_t levels, const std::uint32_t* u,
                 std::uint64_t* words) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  constexpr std::size_t kLanes = hn::MaxLanes(df);
  const auto s = hn::Set(df, static_cast<float>(levels));
  const auto top = hn::Set(df, static_cast<float>(levels) - 1.0F);
  const auto one = hn::Set(df, 1.0F);
  const auto two24 = hn::Set(df, 16777216.0F);
  const auto two23 = hn::Set(df, 8388608.0F);
  const auto mantissa = hn::Set(du, 0x7FFFFFU);
  const auto factor = hn::Set(df, scale);
  std::uint64_t planes[kWidth] = {};  // in registers: the width is a compile-time constant
  alignas(64) std::uint8_t narrow[kBlock];
  for (std::size_t i = 0; i < kBlock; i += kLanes) {
    const auto value = hn::LoadU(df, v + i);
    const auto r = hn::Min(s, hn::Mul(hn::Abs(value), factor));
    auto level = hn::Min(hn::Floor(r), top);  // r = s: round between s−1 and s
    const auto p = hn::Sub(r, level);
    const auto uniform =
        hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<8>(hn::LoadU(du, u + i))));
    level = hn::Add(level, hn::IfThenElseZero(hn::Lt(uniform, hn::Mul(p, two24)), one));
    // level + s with the sign of v is an integer in [0, 2s] ≤ 2^21: adding 2^23 puts it in the
    // low mantissa bits, which is cheaper than a float-to-int conversion. (−0 counts as +0.)
    const auto field = hn::Add(hn::CopySign(level, value), s);
    const auto bits = hn::And(hn::BitCast(du, hn::Add(field, two23)), mantissa);
    if constexpr (kWidth <= 8) {
      // Narrow to bytes: one byte-lane test per plane then covers up to 64 fields at once.
      const hn::Rebind<std::uint8_t, decltype(di)> d8;
      hn::StoreU(hn::DemoteTo(d8, hn::BitCast(di, bits)), d8, narrow + i);
    } else {
      for (unsigned b = 0; b < kWidth; ++b) {
        planes[b] |= detail::mask_bits(du, hn::TestBit(bits, hn::Set(du, 1U << b))) << i;
      }
    }
  }
  if constexpr (kWidth <= 8) {
    const hn::ScalableTag<std::uint8_t> d8;
    constexpr std::size_t kByteLanes = hn::MaxLanes(d8);
    for (std::size_t i = 0; i < kBlock; i += kByteLanes) {
      const auto fields = hn::LoadU(d8, narrow + i);
      for (unsigned b = 0; b < kWidth; ++b) {
        const auto bit = hn::Set(d8, static_cast<std::uint8_t>(1U << b));
        planes[b] |= detail::mask_bits(d8, hn::TestBit(fields, bit)) << i;
      }
    }
  }
  for (unsigned b = 0; b < kWidth; ++b) words[b] = planes[b];
}

// QSGD for s ≤ 127 (fields of at most 8 bits), the common case, in integer lanes: with
// z = v·(s/‖v‖)·2^24 clamped to [−s·2^24, s·2^24] (exact scaling by 2^24) and u24 the top 24 bits
// of u, the field is (s·2^24 + ⌊z⌋ + u24) >> 24. Writing ⌊z⌋ = (l + s)·2^24 − s·2^24 + f with
// 0 ≤ f < 2^24, that is l + s + [u24 ≥ 2^24 − f]: the level rounds up with probability f/2^24,
// the fraction of r = z/2^24 truncated to 24 bits, for either sign (−0 gives s; z = ±s·2^24
// gives 2s or 0). Unbiased up to that truncation, at most 2^−24 of a level towards −∞, the
// resolution of the float arithmetic itself. One rule for both signs is what makes it short:
// a multiply, a clamp, a floor, two integer adds and a shift per 16 coordinates, where the
// rule of qsgd_planes (magnitude, ceil, copy the sign back) needs twice as many instructions.
// Four vectors of fields narrow to one vector of bytes, one byte test per plane.
template <unsigned kWidth>
void qsgd_planes_narrow(const float* v, float scale, std::uint32_t levels, const std::uint32_t* u,
                        std::uint64_t* words) {
  static_assert(kWidth <= 8);
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  constexpr std::size_t kLanes = hn::MaxLanes(df);
  static_assert(kBlock % (4 * kLanes) == 0);
#if HWY_TARGET != HWY_SCALAR
  const hn::Repartition<std::uint16_t, decltype(du)> d16;
  const hn::Repartition<std::uint8_t, decltype(du)> d8;
#endif
  const float top = static_cast<float>(levels) * 16777216.0F;  // s·2^24 ≤ 127·2^24 < 2^31
  const auto ceiling = hn::Set(df, top);
  const auto bottom = hn::Set(df, -top);
  const auto offset = hn::Set(du, levels << 24);
  const auto factor = hn::Set(df, scale);
  const auto two24 = hn::Set(df, 16777216.0F);
  const auto fields_of = [&](std::size_t i) {
    const auto z = hn::Mul(hn::Mul(hn::LoadU(df, v + i), factor), two24);
    const auto floor = hn::ConvertTo(di, hn::Floor(hn::Min(ceiling, hn::Max(bottom, z))));
    // Unsigned: s·2^24 + ⌊z⌋ + u24 < 255·2^24 < 2^32.
    const auto noise = hn::ShiftRight<8>(hn::LoadU(du, u + i));
    return hn::ShiftRight<24>(hn::Add(hn::Add(hn::BitCast(du, floor), offset), noise));
  };
#if HWY_TARGET == HWY_SCALAR
  // One lane (builds without -march, e.g. the sanitizer preset): the fields through memory.
  std::uint32_t fields[kBlock];
  for (std::size_t i = 0; i < kBlock; i += kLanes) hn::StoreU(fields_of(i), du, fields + i);
  transpose_block(fields, kWidth, words);
#else
  for (std::size_t i = 0; i < kBlock; i += 4 * kLanes) {
    // Fields fit a byte: keep the low 16 bits of each lane, then the low 8, in order.
    const auto low = hn::ConcatEven(d16, hn::BitCast(d16, fields_of(i + kLanes)),
                                    hn::BitCast(d16, fields_of(i)));
    const auto high = hn::ConcatEven(d16, hn::BitCast(d16, fields_of(i + 3 * kLanes)),
                                     hn::BitCast(d16, fields_of(i + 2 * kLanes)));
    const auto bytes = hn::ConcatEven(d8, hn::BitCast(d8, high), hn::BitCast(d8, low));
    for (unsigned b = 0; b < kWidth; ++b) {
      const auto bit = hn::Set(d8, static_cast<std::uint8_t>(1U << b));
      words[b] |= detail::mask_bits(d8, hn::TestBit(bytes, bit)) << i;
    }
  }
#endif
}

// Quantizes `blocks` whole 64-element blocks: words[k·width + b] receives bit b of the fields of
// block k. Constants are set once per call (a call per block spent a fifth of the time on them).
// `readable` elements from v on may be prefetched (core/prefetch.hpp), a block's lines at a time.
template <unsigned kWidth>
void qsgd_plane_blocks(const float* v, std::size_t blocks, float scale, std::uint32_t levels,
                       const std::uint32_t* u, std::uint64_t* words, std::size_t readable) {
  for (std::size_t k = 0; k < blocks; ++k) {
    prefetch_ahead(v, k * kBlock, kBlock, readable);
    std::uint64_t* block_words = words + k * kWidth;
    if constexpr (kWidth <= 8) {
      for (unsigned b = 0; b < kWidth; ++b) block_words[b] = 0;
      qsgd_planes_narrow<kWidth>(v + k * kBlock, scale, levels, u + k * kBlock, block_words);
    } else {
      qsgd_planes<kWidth>(v + k * kBlock, scale, levels, u + k * kBlock, block_words);
    }
  }
}

// Fields are 0..2s with s ≤ 2^20: at most 22 bits.
inline constexpr unsigned kMaxQsgdWidth = 22;

// qsgd_plane_blocks for a width known only at run time (2 ≤ width ≤ kMaxQsgdWidth).
using QsgdPlanesKernel = void (*)(const float*, std::size_t, float, std::uint32_t,
                                  const std::uint32_t*, std::uint64_t*, std::size_t);
inline QsgdPlanesKernel qsgd_plane_blocks_for(unsigned width) {
  static constexpr auto kTable = []<unsigned... kW>(std::integer_sequence<unsigned, kW...>) {
    return std::array<QsgdPlanesKernel, sizeof...(kW)>{&qsgd_plane_blocks<kW + 1>...};
  }
  (std::make_integer_sequence<unsigned, kMaxQsgdWidth>());
  return kTable[width - 1];
}

// TernGrad trits of 64 float coordinates (docs/compressors.md §2.3.12): 0, 1 (+s) or 2 (−s), kept
// with probability |v|/s judged against 24-bit uniforms. `inverse_scale` is 1/s (0 for an all-zero
// segment).
inline void terngrad_trits(const float* v, float inverse_scale, const std::uint32_t* u,
                           std::uint8_t* trits) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  constexpr std::size_t kLanes = hn::MaxLanes(df);
  const auto factor = hn::Set(df, inverse_scale * 16777216.0F);
  const hn::Rebind<std::uint8_t, decltype(di)> d8;
  for (std::size_t i = 0; i < kBlock; i += kLanes) {
    const auto value = hn::LoadU(df, v + i);
    const auto uniform =
        hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<8>(hn::LoadU(du, u + i))));
    const auto keep = hn::RebindMask(di, hn::Lt(uniform, hn::Mul(hn::Abs(value), factor)));
    const auto negative = hn::RebindMask(di, hn::Lt(value, hn::Zero(df)));
    const auto trit = hn::IfThenElse(negative, hn::Set(di, 2), hn::Set(di, 1));
    hn::StoreU(hn::DemoteTo(d8, hn::IfThenElseZero(keep, trit)), d8, trits + i);
  }
}

}  // namespace gradcomp::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // GRADCOMP_COMPRESS_QUANTIZE_KERNELS_INL_H_
