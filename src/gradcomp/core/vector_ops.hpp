#pragma once
// Reductions used by the compressors. Each sums in sixteen fixed lanes (lane j takes elements
// i ≡ j mod 16) and then adds the lanes in order: the compiler can vectorise the loop, and the
// result is the same on every machine because the order of additions is fixed in the source.
#include <cmath>
#include <cstddef>
#include <span>

namespace gradcomp {

namespace detail {
template <class T, class Term>
double lane_sum(std::span<const T> x, Term term) {
  constexpr std::size_t kLanes = 16;
  double lanes[kLanes] = {};
  const std::size_t whole = x.size() - x.size() % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
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

template <class T>
double sum_squares(std::span<const T> x) {
  return detail::lane_sum(x, [](double v) { return v * v; });
}

}  // namespace gradcomp
