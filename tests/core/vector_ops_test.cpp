// The compressors' reductions (core/vector_ops-inl.hpp): the float sum of squares, blocked in
// float, stays within its stated bound of the double sum, falls back to double when a square leaves
// float's range, and gives the same bits whatever the alignment of the data in memory; the lane
// sums add in the documented order with and without prefetching.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "gradcomp/core/vector_ops-inl.hpp"  // the static target's copy

namespace gradcomp {
namespace {

using HWY_NAMESPACE::sum_abs;
using HWY_NAMESPACE::sum_squares;

double double_sum_squares(std::span<const float> x) {
  long double total = 0;
  for (float v : x) total += static_cast<long double>(v) * v;
  return static_cast<double>(total);
}

TEST(VectorOps, BlockedFloatSumOfSquaresWithinItsBound) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (const std::size_t n : {0UL, 1UL, 63UL, 1024UL, 1025UL, 100'000UL, 1'000'003UL}) {
    std::vector<float> x(n);
    for (auto& v : x) v = normal(rng) * (rng() % 7 == 0 ? 1000.0F : 1.0F);
    const double exact = double_sum_squares(x);
    // Each float partial sums 16 squares: relative error ≤ 16·2⁻²⁴ of the partial.
    EXPECT_LE(std::fabs(sum_squares(std::span<const float>(x)) - exact), 16 * 0x1p-24 * exact) << n;
  }
}

TEST(VectorOps, SquaresBeyondFloatRangeFallBackToDouble) {
  std::vector<float> x(5000, 1.0F);
  x[1234] = 1e20F;  // 1e40 is beyond float, not double
  const double big = 1e20F;
  const double expected = big * big + 4999;
  EXPECT_NEAR(sum_squares(std::span<const float>(x)), expected, expected * 1e-15);
  x[77] = NAN;
  EXPECT_TRUE(std::isnan(sum_squares(std::span<const float>(x))));
}

TEST(VectorOps, SameBitsForEveryOffsetOfTheSameValues) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  std::vector<float> values(50'000);
  for (auto& v : values) v = normal(rng);
  const double reference = sum_squares(std::span<const float>(values));
  for (std::size_t shift = 1; shift < 16; ++shift) {
    std::vector<float> padded(shift + values.size());
    std::copy(values.begin(), values.end(), padded.begin() + static_cast<std::ptrdiff_t>(shift));
    EXPECT_EQ(sum_squares(std::span<const float>(padded).subspan(shift)), reference) << shift;
  }
}

TEST(VectorOps, PrefetchingDoesNotChangeTheSum) {
  // A segment of a large vector prefetches past its end (blocksign): same order, same bits.
  std::mt19937 rng(4);
  std::normal_distribution<float> normal;
  std::vector<float> values(300'000);
  for (auto& v : values) v = normal(rng);
  const std::span<const float> all(values);
  for (const std::size_t size : {4096UL, 4099UL, 299'990UL}) {
    const auto segment = all.subspan(7, size);
    double expected = 0;
    double lanes[16] = {};
    for (std::size_t i = 0; i < size; ++i) lanes[i % 16] += std::fabs(double{segment[i]});
    for (double lane : lanes) expected += lane;
    EXPECT_EQ(sum_abs(segment, all.size() - 7), expected) << size;
    EXPECT_EQ(sum_abs(segment), expected) << size;
  }
}

}  // namespace
}  // namespace gradcomp
