// The quantizers' uniforms (compress/quantize-inl.hpp): deterministic, independent of how they are
// asked for, and statistically uniform (χ² on 256 buckets, every bit balanced, no correlation
// with the previous number nor with the previous number of the same xoshiro lane), over many
// chunks with keys from Philox. This is the static target's copy; that every target draws the
// same numbers follows from the compressors' agreement across targets (targets_test.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "gradcomp/compress/quantize-inl.hpp"

namespace gradcomp {
namespace {

using HWY_NAMESPACE::UniformChunks;

std::vector<std::uint32_t> draw(std::size_t count, std::size_t piece, std::uint32_t worker = 0) {
  UniformChunks chunks(StepContext{3, 4, worker}, Segment{0, count, 2}, Purpose::kQuantize);
  std::vector<std::uint32_t> out;
  while (out.size() < count) {
    const std::size_t n = std::min(piece, count - out.size());
    const std::uint32_t* p = chunks.next(n);
    out.insert(out.end(), p, p + n);
  }
  return out;
}

TEST(Uniforms, SameNumbersWhateverThePieceSize) {
  const auto whole = draw(10000, 1280);
  EXPECT_EQ(draw(10000, 1), whole);
  EXPECT_EQ(draw(10000, 64), whole);
  EXPECT_EQ(draw(10000, 1000), whole);
  EXPECT_NE(draw(10000, 64, 1), whole);  // another worker, other numbers
}

TEST(Uniforms, PassChiSquareBitBalanceAndSerialCorrelation) {
  const std::size_t n = 2'000'000;
  const auto u = draw(n, 777);
  std::vector<double> buckets(256, 0);
  std::vector<double> ones(32, 0);
  double lag = 0, lane_lag = 0, mean = 0;
  for (std::size_t i = 0; i < n; ++i) {
    buckets[u[i] >> 24] += 1;
    for (int b = 0; b < 32; ++b) ones[b] += (u[i] >> b) & 1U;
    const double x = u[i] * 0x1.0p-32 - 0.5;
    mean += x;
    if (i > 0) lag += x * (u[i - 1] * 0x1.0p-32 - 0.5);
    // The previous number of the same lane (UniformChunks::kLanes apart inside a chunk).
    if (i >= 16) lane_lag += x * (u[i - 16] * 0x1.0p-32 - 0.5);
  }
  double chi2 = 0;
  for (double c : buckets) chi2 += (c - n / 256.0) * (c - n / 256.0) / (n / 256.0);
  EXPECT_LT(chi2, 360.0);  // χ²₂₅₅: P(> 360) ≈ 1e-5
  for (int b = 0; b < 32; ++b) EXPECT_NEAR(ones[b] / n, 0.5, 5.0 * 0.5 / std::sqrt(n)) << b;
  EXPECT_NEAR(mean / n, 0.0, 5.0 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(lag / (n - 1), 0.0, 5.0 / 12 / std::sqrt(n));  // Var(xy) = 1/144
  EXPECT_NEAR(lane_lag / (n - 16), 0.0, 5.0 / 12 / std::sqrt(n));
}

}  // namespace
}  // namespace gradcomp
