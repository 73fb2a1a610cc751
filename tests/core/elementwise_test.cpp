// The elementwise kernels (core/elementwise.hpp) on every instruction set the build compiled them
// for and the CPU runs, against the scalar statements of their rules, bit for bit: lengths that
// leave every tail, outputs aliasing an input (error feedback's e ← p − C(p) writes over p), and
// the sums' fixed order (32 lanes, the tail first).
#include "gradcomp/core/elementwise.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "every_target.hpp"

namespace gradcomp {
namespace {

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(normal(rng) * (rng() % 5 == 0 ? 1e3 : 1.0));
  return v;
}

// Σ f(i) as documented: lane l sums i ≡ l (mod 32) over the whole groups, the tail goes into the
// total first, then the lanes in order.
template <class F>
double documented_sum(std::size_t n, F f) {
  double lanes[32] = {};
  const std::size_t whole = n - n % 32;
  for (std::size_t i = 0; i < whole; ++i) lanes[i % 32] += f(i);
  double total = 0;
  for (std::size_t i = whole; i < n; ++i) total += f(i);
  for (const double lane : lanes) total += lane;
  return total;
}
// Σ v_i² in the documented order.
template <class T>
double documented_squared_norm(const std::vector<T>& v) {
  return documented_sum(v.size(), [&](std::size_t i) {
    return static_cast<double>(v[i]) * static_cast<double>(v[i]);
  });
}

template <class T>
void check_kernels(const ElementwiseKernels<T>& k, std::size_t n, std::mt19937& rng) {
  const auto a = random_vector<T>(n, rng), b = random_vector<T>(n, rng),
             c = random_vector<T>(n, rng);
  const auto row = random_vector<float>(n, rng);
  const T s = static_cast<T>(0.37), w = static_cast<T>(1e-3), mu = static_cast<T>(0.9);
  std::vector<T> out(n), expected(n);

  k.add_scaled(a.data(), s, b.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] + s * b[i];
  EXPECT_EQ(out, expected) << "add_scaled, n = " << n;
  out = a;  // out aliases a
  k.subtract_scaled(out.data(), s, b.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] - s * b[i];
  EXPECT_EQ(out, expected) << "subtract_scaled in place, n = " << n;
  for (const T scale : {s, T{1}}) {
    out = a;
    const double norm = k.subtract_scaled_norm(out.data(), scale, b.data(), out.data(), n);
    for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] - scale * b[i];
    EXPECT_EQ(out, expected) << "subtract_scaled_norm in place, n = " << n;
    EXPECT_EQ(norm, documented_squared_norm(expected)) << "subtract_scaled_norm's norm, n = " << n;
  }
  {
    const double norm_of_b = k.subtract_scaled_norm_of_b(a.data(), s, b.data(), out.data(), n);
    for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] - s * b[i];
    EXPECT_EQ(out, expected) << "subtract_scaled_norm_of_b, n = " << n;
    EXPECT_EQ(norm_of_b, documented_squared_norm(b))
        << "subtract_scaled_norm_of_b's norm, n = " << n;
    EXPECT_EQ(norm_of_b, k.squared_norm(b.data(), n)) << "n = " << n;
  }
  k.multiply(a.data(), s, out.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] * s;
  EXPECT_EQ(out, expected) << "multiply, n = " << n;
  k.decayed_input(a.data(), w, b.data(), s, c.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = s * (a[i] + w * b[i]) + c[i];
  EXPECT_EQ(out, expected) << "decayed_input, n = " << n;
  std::vector<T> m = c, expected_m = c;
  k.momentum_input(m.data(), mu, a.data(), w, b.data(), s, c.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    expected_m[i] = mu * expected_m[i] + (a[i] + w * b[i]);
    expected[i] = s * expected_m[i] + c[i];
  }
  EXPECT_EQ(m, expected_m) << "momentum_input (m), n = " << n;
  EXPECT_EQ(out, expected) << "momentum_input (p), n = " << n;

  const double norm = k.squared_norm(a.data(), n);
  EXPECT_EQ(norm, documented_sum(n,
                                 [&](std::size_t i) {
                                   return static_cast<double>(a[i]) * static_cast<double>(a[i]);
                                 }))
      << "squared_norm, n = " << n;
  const double dot = k.dot_row(row.data(), a.data(), n);
  EXPECT_EQ(dot, documented_sum(n,
                                [&](std::size_t i) {
                                  return static_cast<double>(row[i]) * static_cast<double>(a[i]);
                                }))
      << "dot_row, n = " << n;
  const auto ahead = random_vector<float>(n, rng);
  EXPECT_EQ(k.dot_row_ahead(row.data(), a.data(), n, ahead.data()), dot)
      << "dot_row_ahead, n = " << n;

  const double slope = -0.61, l2 = 1e-4;
  std::vector<double> sum(n), expected_sum(n);
  k.start_sum(row.data(), slope, sum.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected_sum[i] = 0.0 + slope * static_cast<double>(row[i]);
  EXPECT_EQ(sum, expected_sum) << "start_sum, n = " << n;
  k.add_to_sum(row.data(), 2 * slope, sum.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected_sum[i] += 2 * slope * static_cast<double>(row[i]);
  EXPECT_EQ(sum, expected_sum) << "add_to_sum, n = " << n;
  k.finish_gradient(sum.data(), row.data(), slope, l2, a.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    expected[i] = static_cast<T>((expected_sum[i] + slope * static_cast<double>(row[i])) +
                                 l2 * static_cast<double>(a[i]));
  }
  EXPECT_EQ(out, expected) << "finish_gradient, n = " << n;
  k.finish_gradient(nullptr, row.data(), slope, l2, a.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    expected[i] = static_cast<T>((0.0 + slope * static_cast<double>(row[i])) +
                                 l2 * static_cast<double>(a[i]));
  }
  EXPECT_EQ(out, expected) << "finish_gradient of one row, n = " << n;

  // At the detached point z = a − s·b, never written out: the bits of the kernels above at z.
  std::vector<T> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = a[i] - s * b[i];
  const double dot_z = k.dot_row(row.data(), z.data(), n);
  EXPECT_EQ(k.dot_detached_row(row.data(), a.data(), s, b.data(), n, nullptr), dot_z)
      << "dot_detached_row, n = " << n;
  EXPECT_EQ(k.dot_detached_row(row.data(), a.data(), s, b.data(), n, ahead.data()), dot_z)
      << "dot_detached_row fetching ahead, n = " << n;
  std::vector<T> g(n);
  EXPECT_TRUE(k.finish_detached(row.data(), slope, l2, a.data(), s, b.data(), g.data(), n));
  k.finish_gradient(nullptr, row.data(), slope, l2, z.data(), expected.data(), n);
  EXPECT_EQ(g, expected) << "finish_detached, n = " << n;
  out = b;  // e ← s·(g + w·z) + e in e's storage, z read from the e it overwrites
  k.detached_input(g.data(), w, a.data(), s, mu, out.data(), n);
  k.decayed_input(g.data(), w, z.data(), mu, b.data(), expected.data(), n);
  EXPECT_EQ(out, expected) << "detached_input, n = " << n;
  out = b;  // the two above without g written out, chunk by chunk
  T bad = 0;
  EXPECT_EQ(k.detached_row_input(row.data(), slope, l2, a.data(), s, w, mu, out.data(), n, &bad),
            n);
  EXPECT_EQ(out, expected) << "detached_row_input, n = " << n;

  out = a;
  k.subtract_changed(out.data(), b.data(), n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = a[i] - b[i];
  EXPECT_EQ(out, expected) << "subtract_changed, n = " << n;
}

TEST(Elementwise, EveryKernelEqualsItsScalarRuleBitForBitOnEveryTarget) {
  // 1537: three whole chunks of detached_row_input and a tail.
  std::size_t targets = 0;
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    ++targets;
    std::mt19937 rng(7);
    for (const std::size_t n :
         {0UL, 1UL, 7UL, 8UL, 9UL, 31UL, 32UL, 33UL, 63UL, 1000UL, 1537UL, 5003UL}) {
      check_kernels(dispatched_elementwise<float>(), n, rng);
      check_kernels(dispatched_elementwise<double>(), n, rng);
    }
  }
  EXPECT_GE(targets, 1U);
}

// subtract_changed gives x − a bit for bit, a +0 in a leaving x as it is, a −0 not (−0 − −0 is
// +0) — wherever x's cache lines begin (x at every offset of a line), with a changed in no line,
// in one, and in scattered ones; and it leaves every element the update does not change where it
// found it (a NaN stays the same NaN).
TEST(Elementwise, SubtractChangedIsTheSubtractionBitForBitOnEveryTarget) {
  std::size_t targets = 0;
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    ++targets;
    const ElementwiseKernels<float> k = dispatched_elementwise<float>();
    const ElementwiseKernels<double> kd = dispatched_elementwise<double>();
    std::mt19937 rng(11);
    for (const std::size_t n : {1UL, 15UL, 16UL, 17UL, 100UL, 5003UL}) {
      for (std::size_t offset = 0; offset < 16; ++offset) {
        std::vector<float> storage(n + 16);
        const std::span<float> x(storage.data() + offset, n);
        const auto start = random_vector<float>(n, rng);
        for (const std::size_t changed : {0UL, 1UL, n / 7 + 1}) {
          std::vector<float> a(n, 0.0F);
          for (std::size_t c = 0; c < changed; ++c) a[(c * 7919 + offset) % n] = 0.5F + c;
          a[n / 2] = changed == 1 ? -0.0F : a[n / 2];
          std::copy(start.begin(), start.end(), x.begin());
          x[0] = -0.0F;
          x[n - 1] = std::numeric_limits<float>::quiet_NaN();
          std::vector<float> expected(x.begin(), x.end());
          for (std::size_t i = 0; i < n; ++i) expected[i] -= a[i];
          k.subtract_changed(x.data(), a.data(), n);
          for (std::size_t i = 0; i < n; ++i) {
            ASSERT_EQ(std::bit_cast<std::uint32_t>(x[i]), std::bit_cast<std::uint32_t>(expected[i]))
                << "n = " << n << ", offset " << offset << ", " << changed << " changed, at " << i;
          }
        }
      }
      std::vector<double> dx = random_vector<double>(n, rng), da(n, 0.0);
      da[n - 1] = 2.5;
      std::vector<double> expected = dx;
      expected[n - 1] -= 2.5;
      kd.subtract_changed(dx.data(), da.data(), n);
      EXPECT_EQ(dx, expected) << "double, n = " << n;
    }
  }
  EXPECT_GE(targets, 1U);
}

// finish_gradient returns whether every value it wrote is finite, on every target: a NaN or an
// infinity in x (through μ·x), or a finite double beyond float's range, anywhere in the vector
// (the vector loop's lanes and its tail); detached_row_input names the first such element.
TEST(Elementwise, FinishGradientSaysWhetherItsOutputIsFinite) {
  std::size_t targets = 0;
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    ++targets;
    for (const std::size_t n : {1UL, 7UL, 64UL, 1000UL, 1003UL}) {
      std::vector<float> row(n, 0.5F), x(n, 2.0F), out(n);
      // (n = 1000: the bad element at 500 is in detached_row_input's first chunk, at 999 in the
      // second.)
      std::vector<double> sum(n, 1.0);
      const ElementwiseKernels<float> k = dispatched_elementwise<float>();
      const ElementwiseKernels<double> kd = dispatched_elementwise<double>();
      EXPECT_TRUE(k.finish_gradient(nullptr, row.data(), -0.3, 1e-3, x.data(), out.data(), n));
      EXPECT_TRUE(k.finish_gradient(sum.data(), row.data(), -0.3, 1e-3, x.data(), out.data(), n));
      const std::vector<float> no_error(n, 0.0F);
      EXPECT_TRUE(k.finish_detached(row.data(), -0.3, 1e-3, x.data(), 0.5F, no_error.data(),
                                    out.data(), n));
      for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
        for (const float bad :
             {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
              std::numeric_limits<float>::max()}) {
          auto point = x;
          point[at] = bad;
          // l2 = 2: 2·FLT_MAX is finite in double and infinite as a float.
          EXPECT_FALSE(
              k.finish_gradient(nullptr, row.data(), -0.3, 2.0, point.data(), out.data(), n))
              << bad << " at " << at << " of " << n;
          EXPECT_FALSE(
              k.finish_gradient(sum.data(), row.data(), -0.3, 2.0, point.data(), out.data(), n))
              << bad << " at " << at << " of " << n;
          // The same bad value reached through the detached point's error (z = x − 1·e).
          std::vector<float> error(n, 0.0F);
          error[at] = -bad;
          EXPECT_FALSE(
              k.finish_detached(row.data(), -0.3, 2.0, x.data(), 1.0F, error.data(), out.data(), n))
              << bad << " at " << at << " of " << n;
          // Without the gradient written out: the first element that is not finite, and its value
          // (a second one later is not the one reported).
          std::vector<float> g(n);
          k.finish_detached(row.data(), -0.3, 2.0, x.data(), 1.0F, error.data(), g.data(), n);
          if (at + 1 < n) error[n - 1] = -std::numeric_limits<float>::infinity();
          float seen = 0;
          EXPECT_EQ(k.detached_row_input(row.data(), -0.3, 2.0, x.data(), 1.0F, 1e-3F, 0.1F,
                                         error.data(), n, &seen),
                    at)
              << bad << " at " << at << " of " << n;
          EXPECT_EQ(std::bit_cast<std::uint32_t>(seen), std::bit_cast<std::uint32_t>(g[at]))
              << bad << " at " << at << " of " << n;
        }
      }
      std::vector<double> dx(n, 2.0), dout(n);
      dx[n - 1] = std::numeric_limits<double>::infinity();
      EXPECT_FALSE(kd.finish_gradient(nullptr, row.data(), -0.3, 1e-3, dx.data(), dout.data(), n));
      dx[n - 1] = 2.0;
      EXPECT_TRUE(kd.finish_gradient(nullptr, row.data(), -0.3, 1e-3, dx.data(), dout.data(), n));
    }
  }
  EXPECT_GE(targets, 1U);
}

// The gradient of one row starts from +0 as the accumulating path does: with s·a = −0 and μx = −0
// it is (+0 + −0) + −0 = +0, where −0 + −0 would give −0.
TEST(Elementwise, OneRowGradientStartsFromPositiveZero) {
  const float row[1] = {-0.0F};
  const float x[1] = {-0.0F};
  float out[1] = {1.0F};
  elementwise<float>().finish_gradient(nullptr, row, 1.0, 1.0, x, out, 1);
  EXPECT_EQ(out[0], 0.0F);
  EXPECT_FALSE(std::signbit(out[0]));
}

}  // namespace
}  // namespace gradcomp
