#include "gradcomp/core/random.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace gradcomp {
namespace {

// Known-answer vectors of Philox4x32-10 (Salmon et al., SC'11; the Random123 distribution).
TEST(Philox, KnownAnswers) {
  const PhiloxBlock zero = philox4x32({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5U);
  EXPECT_EQ(zero.v[1], 0xe169c58dU);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cU);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8U);
  const PhiloxBlock ones =
      philox4x32({{0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU}}, 0xffffffffU, 0xffffffffU);
  EXPECT_EQ(ones.v[0], 0x408f276dU);
  EXPECT_EQ(ones.v[1], 0x41c83b0eU);
  EXPECT_EQ(ones.v[2], 0xa20bc7c6U);
  EXPECT_EQ(ones.v[3], 0x6d5451fdU);
  const PhiloxBlock pi =
      philox4x32({{0x243f6a88U, 0x85a308d3U, 0x13198a2eU, 0x03707344U}}, 0xa4093822U, 0x299f31d0U);
  EXPECT_EQ(pi.v[0], 0xd16cfe09U);
  EXPECT_EQ(pi.v[1], 0x94fdccebU);
  EXPECT_EQ(pi.v[2], 0x5001e420U);
  EXPECT_EQ(pi.v[3], 0x24126ea1U);
}

TEST(RandomStream, SameKeySameNumbersOtherWorkerOtherNumbers) {
  RandomStream a(42, Purpose::kRbgsStart, 7, 3, kSharedWorker);
  RandomStream b(42, Purpose::kRbgsStart, 7, 3, kSharedWorker);
  RandomStream c(42, Purpose::kRbgsStart, 7, 3, 0);
  RandomStream d(42, Purpose::kRbgsStart, 8, 3, kSharedWorker);
  int equal_c = 0, equal_d = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u32();
    EXPECT_EQ(x, b.next_u32());
    equal_c += x == c.next_u32();
    equal_d += x == d.next_u32();
  }
  EXPECT_LE(equal_c, 1);
  EXPECT_LE(equal_d, 1);
}

// below(n) is uniform: a chi-square test with 9 degrees of freedom at the 1e-6 level.
TEST(RandomStream, BelowIsUniform) {
  RandomStream stream(9, Purpose::kTest, 0, 0, 0);
  std::vector<double> counts(10, 0);
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) counts[stream.below(10)] += 1;
  double chi2 = 0;
  for (double c : counts) chi2 += (c - draws / 10.0) * (c - draws / 10.0) / (draws / 10.0);
  EXPECT_LT(chi2, 42.0);  // P(chi2_9 > 42) ≈ 3e-6
}

TEST(RandomStream, NormalHasUnitMoments) {
  RandomStream stream(11, Purpose::kTest, 0, 0, 0);
  const int n = 400000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = stream.normal();
    sum += z;
    sum2 += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum2 / n, 1.0, 5.0 * std::sqrt(2.0 / n));
}

}  // namespace
}  // namespace gradcomp
