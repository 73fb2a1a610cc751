#pragma once
// Reductions used by the compressors. Each sums in 64 fixed lanes (lane j takes elements
// i ≡ j mod 64) and then adds the lanes in order: the compiler can vectorise the loop, and the
// result is the same on every machine because the order of additions is fixed in the source.
// 64 lanes rather than 16 give eight independent vector additions per step, and the prefetch
// keeps the loads ahead of them: 25M floats in about the time of reading them once.
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "gradcomp/core/prefetch.hpp"

namespace gradcomp {

namespace detail {
template <class T, class Term>
double lane_sum(std::span<const T> x, Term term) {
  constexpr std::size_t kLanes = 64;
  double lanes[kLanes] = {};
  const std::size_t whole = x.size() - x.size() % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    prefetch_ahead(x.data(), i, kLanes, x.size());
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += term(static_cast<double>(x[i + j]));
  }
  for (std::size_t i = whole; i < x.size(); ++i)
    lanes[i % kLanes] += term(static_cast<double>(x[i]));
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}
}  // namespace detail

template <class T>
double sum_abs(std::span<const T> x) {
  return detail::lane_sum(x, [](double v) { return std::fabs(v); });
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
    prefetch_ahead(x.data(), i, kBlock, x.size());
    float partial[kLanes] = {};
    for (std::size_t row = 0; row < kRows; ++row) {
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
  return detail::lane_sum(x, [](double v) { return v * v; });
}

}  // namespace gradcomp
