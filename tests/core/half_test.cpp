#include "gradcomp/core/half.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace gradcomp {
namespace {

TEST(Half, EveryFiniteHalfRoundTripsExactly) {
  for (unsigned h = 0; h < 0x10000; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    if ((half & 0x7C00U) == 0x7C00U) continue;  // Inf and NaN below
    const float f = half_to_float(half);
    ASSERT_EQ(float_to_half(f), half) << std::hex << h;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0F);
  EXPECT_EQ(half_to_float(0xC000), -2.0F);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0F);
  EXPECT_EQ(half_to_float(0x0001), 0x1.0p-24F);
  EXPECT_EQ(float_to_half(65519.0F), 0x7BFF);  // below the midpoint to 65536: rounds down
  EXPECT_EQ(float_to_half(65520.0F), 0x7C00);  // the midpoint rounds to even: infinity
  EXPECT_EQ(float_to_half(INFINITY), 0x7C00);
  EXPECT_EQ(float_to_half(-INFINITY), 0xFC00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  EXPECT_EQ(float_to_half(0x1.0p-26F), 0x0000);  // below half the smallest subnormal
  EXPECT_EQ(float_to_half(0x1.8p-25F), 0x0001);  // above the midpoint
}

// Between two adjacent halves the midpoint rounds to the even one and its neighbours to the
// nearer one: round to nearest even, checked on every gap of the positive range.
TEST(Half, RoundsToNearestEvenAtEveryMidpoint) {
  for (std::uint16_t h = 0; h < 0x7BFF; ++h) {
    const double lo = half_to_float(h);
    const double hi = half_to_float(static_cast<std::uint16_t>(h + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);  // exact in float
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const std::uint16_t even = (h & 1U) == 0 ? h : static_cast<std::uint16_t>(h + 1);
    ASSERT_EQ(float_to_half(mid), even) << h;
    ASSERT_EQ(float_to_half(std::nextafter(mid, 0.0F)), h) << h;
    ASSERT_EQ(float_to_half(std::nextafter(mid, INFINITY)), h + 1) << h;
    ASSERT_EQ(float_to_half(-mid), even | 0x8000U) << h;
  }
}

}  // namespace
}  // namespace gradcomp
