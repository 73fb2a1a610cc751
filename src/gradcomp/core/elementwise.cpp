// The kernels of core/elementwise.hpp: plain loops, compiled once per instruction set by Highway's
// foreach_target (the compiler vectorises each with that set's widest vectors).
#include "gradcomp/core/elementwise.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "gradcomp/core/prefetch.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/core/elementwise.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace {

template <class T>
void add_scaled(const T* a, T scale, const T* b, T* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + scale * b[i];
}
template <class T>
void subtract_scaled(const T* a, T scale, const T* b, T* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] - scale * b[i];
}
// The sums' fixed order (core/elementwise.hpp): kSumLanes partial sums, lane l taking the
// elements i ≡ l (mod kSumLanes) of the whole groups; the tail summed first, then the lanes in
// order. 32 lanes are four independent vectors of eight doubles: with one, the loop ran at the
// latency of an add (8 elements per 4 cycles) instead of at the adds' throughput.
constexpr std::size_t kSumLanes = 32;

// A value's bits: zero for +0 only.
template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// out[k] = produce(k) for every k, returning Σ squared[k]² with the lanes of squared_norm
// (squared is out itself, or an input). A chunk of out at a time, then the squares while it is
// in L1: two simple loops vectorise where one fused loop (a store, then lanes of sums, with out
// possibly aliasing an input) did not.
template <class T, class Produce>
double write_with_norm(T* out, const T* squared, std::size_t n, Produce produce) {
  constexpr std::size_t kLanes = kSumLanes;
  constexpr std::size_t kChunk = 512;  // a multiple of kLanes: the lanes take the same elements
  double partial[kLanes] = {};
  const std::size_t whole = n - n % kLanes;
  std::size_t i = 0;
  while (i < whole) {
    const std::size_t end = std::min(whole, i + kChunk);
    for (std::size_t k = i; k < end; ++k) out[k] = produce(k);
    for (std::size_t k = i; k < end; k += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        partial[l] += static_cast<double>(squared[k + l]) * static_cast<double>(squared[k + l]);
      }
    }
    i = end;
  }
  double sum = 0;
  for (; i < n; ++i) {
    out[i] = produce(i);
    sum += static_cast<double>(squared[i]) * static_cast<double>(squared[i]);
  }
  for (const double p : partial) sum += p;
  return sum;
}
template <class T>
double subtract_scaled_norm(const T* a, T scale, const T* b, T* out, std::size_t n) {
  return write_with_norm(out, out, n, [=](std::size_t k) { return a[k] - scale * b[k]; });
}
template <class T>
double subtract_scaled_norm_of_b(const T* a, T scale, const T* b, T* out, std::size_t n) {
  return write_with_norm(out, b, n, [=](std::size_t k) { return a[k] - scale * b[k]; });
}
template <class T>
void multiply(const T* a, T factor, T* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * factor;
}

// In Highway's vectors: the plain loop's compiler vectorisation did not survive the per-line
// test (scalar code with spills, and 2-thread ef-scaled runs 10–25% slower with a dense update).
template <class T>
void subtract_changed(T* x, const T* a, std::size_t n) {
  namespace hn = hwy::HWY_NAMESPACE;
  constexpr std::size_t kLine = kCacheLine / sizeof(T);
  const hn::CappedTag<T, kLine> d;  // a line is whole vectors
  const hn::RebindToUnsigned<decltype(d)> bits;
  const std::size_t lanes = hn::Lanes(d);
  const auto one_by_one = [&](std::size_t i) {
    if (std::bit_cast<Bits<T>>(a[i]) != 0) x[i] -= a[i];
  };
  // Up to the first cache line of x one by one, then a line at a time, then the tail.
  std::size_t i = 0;
  const auto misalignment = reinterpret_cast<std::uintptr_t>(x) % kCacheLine;
  const std::size_t head =
      misalignment % sizeof(T) != 0 ? n : (kCacheLine - misalignment) % kCacheLine / sizeof(T);
  for (; i < std::min(head, n); ++i) one_by_one(i);
  for (; i + kLine <= n; i += kLine) {
    auto set = hn::Zero(bits);
    for (std::size_t k = 0; k < kLine; k += lanes) {
      set = hn::Or(set, hn::BitCast(bits, hn::LoadU(d, a + i + k)));
    }
    if (hn::AllTrue(bits, hn::Eq(set, hn::Zero(bits)))) continue;
    for (std::size_t k = 0; k < kLine; k += lanes) {
      hn::StoreU(hn::Sub(hn::LoadU(d, x + i + k), hn::LoadU(d, a + i + k)), d, x + i + k);
    }
  }
  for (; i < n; ++i) one_by_one(i);
}

template <class T>
void decayed_input(const T* g, T w, const T* z, T s, const T* e, T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = s * (g[i] + w * z[i]) + e[i];
}
template <class T>
void momentum_input(T* m, T mu, const T* g, T w, const T* z, T s, const T* e, T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = mu * m[i] + (g[i] + w * z[i]);
    p[i] = s * m[i] + e[i];
  }
}

// Σ term(i) in the fixed order; at_group(i) runs before the group of elements i, i + 1, …
template <class Term, class AtGroup>
double lane_sum(std::size_t n, Term term, AtGroup at_group) {
  double partial[kSumLanes] = {};
  std::size_t i = 0;
  for (; i + kSumLanes <= n; i += kSumLanes) {
    at_group(i);
    for (std::size_t l = 0; l < kSumLanes; ++l) partial[l] += term(i + l);
  }
  double sum = 0;
  for (; i < n; ++i) sum += term(i);
  for (const double p : partial) sum += p;
  return sum;
}
template <class Term>
double lane_sum(std::size_t n, Term term) {
  return lane_sum(n, term, [](std::size_t) {});
}
template <class T>
double squared_norm(const T* v, std::size_t n) {
  return lane_sum(
      n, [v](std::size_t i) { return static_cast<double>(v[i]) * static_cast<double>(v[i]); });
}
template <class T>
double dot_row(const float* row, const T* x, std::size_t n) {
  return lane_sum(n, [row, x](std::size_t i) {
    return static_cast<double>(row[i]) * static_cast<double>(x[i]);
  });
}
// lane_sum while the cache lines of `ahead` (n floats) are asked for as the same offsets of the
// row being summed are reached: an L2 miss of the next row then waits behind this row's arithmetic
// instead of the core waiting for a burst of 300 prefetches to find free miss buffers.
template <class Term>
double lane_sum_fetching(std::size_t n, Term term, const float* ahead) {
  constexpr std::size_t kLine = kCacheLine / sizeof(float);
  static_assert(kSumLanes % kLine == 0);
  const double sum = lane_sum(n, term, [ahead](std::size_t i) {
    for (std::size_t k = 0; k < kSumLanes; k += kLine) __builtin_prefetch(ahead + i + k, 0, 2);
  });
  for (std::size_t k = n - n % kSumLanes; k < n; k += kLine) __builtin_prefetch(ahead + k, 0, 2);
  if (n > 0) __builtin_prefetch(ahead + n - 1, 0, 2);
  return sum;
}
template <class T>
double dot_row_ahead(const float* row, const T* x, std::size_t n, const float* ahead) {
  return lane_sum_fetching(
      n,
      [row, x](std::size_t i) { return static_cast<double>(row[i]) * static_cast<double>(x[i]); },
      ahead);
}

void start_sum(const float* row, double slope, double* sum, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) sum[i] = 0.0 + slope * static_cast<double>(row[i]);
}
void add_to_sum(const float* row, double slope, double* sum, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) sum[i] += slope * static_cast<double>(row[i]);
}
// v − v is +0 (all bits zero) for a finite v and NaN otherwise: or-ing its bits over the values
// is a finiteness test the compiler vectorises with the loop that writes them.
template <class T>
Bits<T> non_finite_bits(T v) {
  return std::bit_cast<Bits<T>>(static_cast<T>(v - v));
}
// out_i = T((sum(i) + slope·row_i) + l2·point(i)), and whether every out_i is finite: the one-row
// gradient of the linear models, at a point given by its elements.
template <class T, class Sum, class Point>
bool finish_row(Sum sum, const float* row, double slope, double l2, Point point, T* out,
                std::size_t n) {
  Bits<T> seen = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = static_cast<T>((sum(i) + slope * static_cast<double>(row[i])) +
                                  l2 * static_cast<double>(point(i)));
    out[i] = v;
    seen |= non_finite_bits(v);
  }
  return seen == 0;
}
template <class T>
bool finish_gradient(const double* sum, const float* row, double slope, double l2, const T* x,
                     T* out, std::size_t n) {
  const auto at_x = [x](std::size_t i) { return x[i]; };
  if (sum == nullptr) {
    return finish_row([](std::size_t) { return 0.0; }, row, slope, l2, at_x, out, n);
  }
  return finish_row([sum](std::size_t i) { return sum[i]; }, row, slope, l2, at_x, out, n);
}

// DEF's detached point z_i = x_i − κ·e_i, rounded to T as subtract_scaled stores it.
template <class T>
T detached(const T* x, T kappa, const T* e, std::size_t i) {
  return x[i] - kappa * e[i];
}
template <class T>
double dot_detached_row(const float* row, const T* x, T kappa, const T* e, std::size_t n,
                        const float* ahead) {
  const auto term = [=](std::size_t i) {
    return static_cast<double>(row[i]) * static_cast<double>(detached(x, kappa, e, i));
  };
  return ahead == nullptr ? lane_sum(n, term) : lane_sum_fetching(n, term, ahead);
}
template <class T>
bool finish_detached(const float* row, double slope, double l2, const T* x, T kappa, const T* e,
                     T* out, std::size_t n) {
  return finish_row([](std::size_t) { return 0.0; }, row, slope, l2,
                    [=](std::size_t i) { return detached(x, kappa, e, i); }, out, n);
}
template <class T>
void detached_input(const T* g, T w, const T* x, T kappa, T s, T* e, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) e[i] = s * (g[i] + w * detached(x, kappa, e, i)) + e[i];
}
template <class T>
std::size_t first_non_finite_of(const T* v, std::size_t n) {
  std::size_t i = 0;
  while (i < n && non_finite_bits(v[i]) == 0) ++i;
  return i;
}

// A chunk of the gradient at a time in a buffer that stays in L1, then the input from it: two
// loops that vectorise (the gradient's double arithmetic, then the input's) without the d-vector
// of the gradient stored and read back.
template <class T>
std::size_t detached_row_input(const float* row, double slope, double l2, const T* x, T kappa, T w,
                               T s, T* e, std::size_t n, T* bad) {
  constexpr std::size_t kChunk = 512;
  T g[kChunk];
  for (std::size_t begin = 0; begin < n; begin += kChunk) {
    const std::size_t size = std::min(kChunk, n - begin);
    const float* chunk_row = row + begin;
    const T* chunk_x = x + begin;
    T* chunk_e = e + begin;
    if (!finish_detached(chunk_row, slope, l2, chunk_x, kappa, chunk_e, g, size)) {
      const std::size_t at = first_non_finite_of(g, size);
      *bad = g[at];
      return begin + at;
    }
    detached_input(g, w, chunk_x, kappa, s, chunk_e, size);
  }
  return n;
}

template <class T>
ElementwiseKernels<T> kernels() {
  return {.add_scaled = &add_scaled<T>,
          .subtract_scaled = &subtract_scaled<T>,
          .subtract_scaled_norm = &subtract_scaled_norm<T>,
          .subtract_scaled_norm_of_b = &subtract_scaled_norm_of_b<T>,
          .multiply = &multiply<T>,
          .subtract_changed = &subtract_changed<T>,
          .decayed_input = &decayed_input<T>,
          .momentum_input = &momentum_input<T>,
          .squared_norm = &squared_norm<T>,
          .dot_row = &dot_row<T>,
          .dot_row_ahead = &dot_row_ahead<T>,
          .start_sum = &start_sum,
          .add_to_sum = &add_to_sum,
          .finish_gradient = &finish_gradient<T>,
          .dot_detached_row = &dot_detached_row<T>,
          .finish_detached = &finish_detached<T>,
          .detached_input = &detached_input<T>,
          .detached_row_input = &detached_row_input<T>};
}

}  // namespace

ElementwiseKernels<float> float_kernels() {
  return kernels<float>();
}
ElementwiseKernels<double> double_kernels() {
  return kernels<double>();
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(float_kernels);
HWY_EXPORT(double_kernels);

template <>
ElementwiseKernels<float> dispatched_elementwise<float>() {
  return HWY_DYNAMIC_DISPATCH(float_kernels)();
}
template <>
ElementwiseKernels<double> dispatched_elementwise<double>() {
  return HWY_DYNAMIC_DISPATCH(double_kernels)();
}
template <class T>
const ElementwiseKernels<T>& elementwise() {
  static const ElementwiseKernels<T> chosen = dispatched_elementwise<T>();
  return chosen;
}
template const ElementwiseKernels<float>& elementwise<float>();
template const ElementwiseKernels<double>& elementwise<double>();

}  // namespace gradcomp
#endif  // HWY_ONCE
