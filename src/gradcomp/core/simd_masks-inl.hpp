// Vectorised predicates over blocks of 64 elements, returned as 64-bit masks (bit j ↔ element j).
// These carry the speed of the sparsifiers (hard threshold, Top-k filtering) and the sign packing
// (docs/benchmarks.md). Masks are exact, so results are identical on every instruction set.
//
// A per-target header of Highway's dynamic dispatch (docs/library.md, "Portable binaries"): a
// source file that includes hwy/foreach_target.h includes it once per instruction set, and each
// copy lands in that target's namespace gradcomp::simd::HWY_NAMESPACE. Hence the toggled include
// guard instead of #pragma once.
#if defined(GRADCOMP_CORE_SIMD_MASKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRADCOMP_CORE_SIMD_MASKS_INL_H_
#undef GRADCOMP_CORE_SIMD_MASKS_INL_H_
#else
#define GRADCOMP_CORE_SIMD_MASKS_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "gradcomp/core/magnitude.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::simd::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// The scalar helpers (magnitude.hpp) too, so that per-target code that names this namespace simd
// (namespace simd = gradcomp::simd::HWY_NAMESPACE) reaches everything as simd::...
using gradcomp::simd::kBlock;
using gradcomp::simd::kInfinityBits;
using gradcomp::simd::magnitude_bits;
using gradcomp::simd::MagnitudeBits;

namespace detail {

template <class D, class M>
std::uint64_t mask_bits(D d, M m) {
  std::uint8_t bytes[8] = {};
  hn::StoreMaskBits(d, m, bytes);
  std::uint64_t value;
  std::memcpy(&value, bytes, 8);
  return value;
}

// Lane-wise maximum of the magnitude bits of x[0..n), n a multiple of the vector length.
template <class T>
auto highest_magnitudes(const T* x, std::size_t n) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using Signed = hn::TFromD<decltype(di)>;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  const auto magnitude = hn::Set(di, static_cast<Signed>(~MagnitudeBits<T>{0} >> 1));
  auto highest = hn::Zero(di);
  for (std::size_t i = 0; i < n; i += kLanes) {
    highest = hn::Max(highest, hn::And(hn::BitCast(di, hn::LoadU(d, x + i)), magnitude));
  }
  return highest;
}

}  // namespace detail

// Bit j set when magnitude_bits(p[j]) ≥ bound. A NaN or infinite element is set whenever
// bound ≤ kInfinityBits, which lets a scan notice non-finite input at no extra cost.
template <class T>
std::uint64_t magnitude_at_least_mask(const T* p, MagnitudeBits<T> bound) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using Signed = hn::TFromD<decltype(di)>;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  if (bound == 0) return ~std::uint64_t{0};
  const auto magnitude = hn::Set(di, static_cast<Signed>(~MagnitudeBits<T>{0} >> 1));
  const auto below = hn::Set(di, static_cast<Signed>(bound - 1));
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < kBlock; i += kLanes) {
    const auto bits = hn::And(hn::BitCast(di, hn::LoadU(d, p + i)), magnitude);
    mask |= detail::mask_bits(di, hn::Gt(bits, below)) << i;
  }
  return mask;
}

// True when any of the 64 elements has magnitude_bits ≥ bound (bound > 0).
template <class T>
bool any_magnitude_at_least(const T* p, MagnitudeBits<T> bound) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using Signed = hn::TFromD<decltype(di)>;
  const auto highest = detail::highest_magnitudes(p, kBlock);
  return !hn::AllFalse(di, hn::Gt(highest, hn::Set(di, static_cast<Signed>(bound - 1))));
}

// The largest magnitude_bits of x[0..n) (the bits of max |x_j| when all are finite; at least
// kInfinityBits when one is NaN or infinite).
template <class T>
MagnitudeBits<T> max_magnitude(const T* x, std::size_t n) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  const std::size_t whole = n - n % kLanes;
  auto result = static_cast<MagnitudeBits<T>>(
      hn::GetLane(hn::MaxOfLanes(di, detail::highest_magnitudes(x, whole))));
  for (std::size_t i = whole; i < n; ++i) result = std::max(result, magnitude_bits(x[i]));
  return result;
}

// Bit j set when p[j] < 0 (so −0 and NaN are not negative: sign(v) = +1 for v ≥ 0,
// docs/compressors.md §1.3). `non_finite` becomes true if any element is NaN or infinite.
template <class T>
std::uint64_t negative_mask(const T* p, bool& non_finite) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using Signed = hn::TFromD<decltype(di)>;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  const auto magnitude = hn::Set(di, static_cast<Signed>(~MagnitudeBits<T>{0} >> 1));
  const auto finite_limit = hn::Set(di, static_cast<Signed>(kInfinityBits<T> - 1));
  auto highest = hn::Zero(di);
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < kBlock; i += kLanes) {
    const auto v = hn::LoadU(d, p + i);
    highest = hn::Max(highest, hn::And(hn::BitCast(di, v), magnitude));
    mask |= detail::mask_bits(d, hn::Lt(v, hn::Zero(d))) << i;
  }
  non_finite = non_finite || !hn::AllFalse(di, hn::Gt(highest, finite_limit));
  return mask;
}

// Writes the index (base + j) and the bits (sign included) of every x[j], j < count, with
// magnitude bits ≥ bound (bound > 0), in order; returns how many. Both outputs need count + one
// vector of room. Uses the vector compress instruction where there is one (AVX-512: vpcompressd).
inline std::size_t compress_at_least(const float* x, std::size_t count, std::uint32_t bound,
                                     std::uint32_t base, std::uint32_t* values,
                                     std::uint32_t* indices) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  constexpr std::size_t kLanes = hn::MaxLanes(df);
  const auto magnitude = hn::Set(di, 0x7FFFFFFF);
  const auto below = hn::Set(di, static_cast<std::int32_t>(bound - 1));
  const auto step = hn::Set(du, static_cast<std::uint32_t>(kLanes));
  auto index = hn::Iota(du, base);
  std::size_t written = 0;
  std::size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    const auto raw = hn::BitCast(di, hn::LoadU(df, x + i));
    const auto keep = hn::Gt(hn::And(raw, magnitude), below);
    // Compress in registers and store whole vectors: the memory form of vpcompressd is slow on
    // Intel cores. The outputs have a vector of room past `count`.
    const auto take = hn::RebindMask(du, keep);
    hn::StoreU(hn::Compress(hn::BitCast(du, raw), take), du, values + written);
    hn::StoreU(hn::Compress(index, take), du, indices + written);
    written += hn::CountTrue(du, take);
    index = hn::Add(index, step);
  }
  for (; i < count; ++i) {
    if (magnitude_bits(x[i]) >= bound) {
      values[written] = std::bit_cast<std::uint32_t>(x[i]);
      indices[written++] = base + static_cast<std::uint32_t>(i);
    }
  }
  return written;
}

}  // namespace gradcomp::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // GRADCOMP_CORE_SIMD_MASKS_INL_H_
