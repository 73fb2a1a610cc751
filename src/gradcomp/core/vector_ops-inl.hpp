// Reductions used by the compressors. Each sums in sixteen fixed lanes (lane j takes elements
// i ≡ j mod 16) and then adds the lanes in order: the compiler can vectorise the loop, and the
// result is the same on every machine because the order of additions is fixed in the source.
// Large vectors are prefetched ahead (core/prefetch.hpp); QSGD's float sum of squares is blocked
// (below). A per-target header (core/simd_masks-inl.hpp says why): the lanes vectorise with the
// widest vectors of each instruction set, and the sums are the same on all of them.
#if defined(GRADCOMP_CORE_VECTOR_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRADCOMP_CORE_VECTOR_OPS_INL_H_
#undef GRADCOMP_CORE_VECTOR_OPS_INL_H_
#else
#define GRADCOMP_CORE_VECTOR_OPS_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "gradcomp/core/prefetch.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {

namespace detail {
// `readable` ≥ x.size() elements from x.data() may be prefetched: a segment of a larger vector
// (blocksign's 4096-element blocks) prefetches the blocks after it.
template <class T, class Term>
double lane_sum(std::span<const T> x, Term term, std::size_t readable) {
  constexpr std::size_t kLanes = 16;
  constexpr std::size_t kStride = 4 * kLanes;  // the elements of one prefetch
  double lanes[kLanes] = {};
  // Prefetching pays when the data is far larger than the caches; on a short vector its
  // bookkeeping costs more than it saves. Either loop adds in the same order.
  const std::size_t prefetched = readable >= kPrefetchFrom ? x.size() - x.size() % kStride : 0;
  std::size_t i = 0;
  for (; i < prefetched; i += kStride) {
    prefetch_ahead(x.data(), i, kStride, readable);
    for (std::size_t r = 0; r < kStride; r += kLanes) {
      for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += term(static_cast<double>(x[i + r + j]));
    }
  }
  const std::size_t whole = x.size() - x.size() % kLanes;
  for (; i < whole; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += term(static_cast<double>(x[i + j]));
  }
  for (; i < x.size(); ++i) lanes[i % kLanes] += term(static_cast<double>(x[i]));
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}
}  // namespace detail

template <class T>
double sum_abs(std::span<const T> x, std::size_t readable = 0) {
  return detail::lane_sum(
      x, [](double v) { return std::fabs(v); }, std::max(readable, x.size()));
}

namespace detail {
// Σ x² for float input, in blocks of 16 rows of the 64 lanes: each lane squares and adds its 16
// elements in float, and the 64 partial sums go into double lanes. Converting every element to
// double was the cost of QSGD's norm pass (10.5 ms for 25M floats against 7 ms blocked, measured
// with docs/benchmarks.md's command); the partials carry a relative error of at most 16·2⁻²⁴,
// so ‖x‖ is within 5·10⁻⁷ of the double sum. The order is fixed: deterministic everywhere.
inline double blocked_sum_squares(std::span<const float> x) {
  constexpr std::size_t kLanes = 64, kRows = 16, kBlock = kLanes * kRows;
  double lanes[kLanes] = {};
  const std::size_t whole = x.size() - x.size() % kBlock;
  for (std::size_t i = 0; i < whole; i += kBlock) {
    float partial[kLanes] = {};
    for (std::size_t row = 0; row < kRows; ++row) {
      // A few lines per row rather than a burst per block: a burst fills the line buffers
      // and stalls on them.
      prefetch_ahead(x.data(), i + row * kLanes, kLanes, x.size());
      const float* values = x.data() + i + row * kLanes;
      for (std::size_t j = 0; j < kLanes; ++j) partial[j] += values[j] * values[j];
    }
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += partial[j];
  }
  for (std::size_t i = whole; i < x.size(); ++i) {
    const double v = x[i];
    lanes[i % kLanes] += v * v;
  }
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}
}  // namespace detail

template <class T>
double sum_squares(std::span<const T> x) {
  if constexpr (std::is_same_v<T, float>) {
    const double blocked = detail::blocked_sum_squares(x);
    // A square or a partial beyond float's range (|x| ≳ 10¹⁹), or a NaN: the double sum decides.
    if (std::isfinite(blocked)) return blocked;
  }
  return detail::lane_sum(
      x, [](double v) { return v * v; }, x.size());
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // GRADCOMP_CORE_VECTOR_OPS_INL_H_
