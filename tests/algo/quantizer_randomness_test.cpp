// Where a quantizer's random numbers come from (docs/compressors.md §1.3): privately on every
// worker by default, so that the mean of n quantized vectors has the ω/n variance DIANA's and
// D-QSGD's theory assumes, and from streams independent of the compressor's, so that ef-bc and
// ec-sgd-diana never draw their compressor's and their quantizer's choices from one stream.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradcomp/algo/worker_compression.hpp"

namespace gradcomp::testing {
namespace {

constexpr std::size_t kD = 64;
const std::string kUnbiasedRandK = "randk:ratio=0.25,unbiased=true";

std::vector<double> ramp() {
  std::vector<double> x(kD);
  for (std::size_t i = 0; i < kD; ++i) x[i] = 1.0 + static_cast<double>(i % 7);
  return x;
}

double squared_distance(std::span<const double> a, std::span<const double> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

// The positions a decoded Random-k message kept.
std::vector<std::size_t> kept(std::span<const double> decoded) {
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] != 0) positions.push_back(i);
  }
  return positions;
}

// E‖(1/n)Σ_i Q_i(x) − x‖² over `steps` steps, every worker quantizing the same x.
double mean_error_of_average(CompressorRole role, std::size_t n, std::size_t steps) {
  const Layout layout = Layout::flat(kD);
  WorkerCompression<double> quantized(kUnbiasedRandK, layout, 7, {n, 0, n, 1}, role);
  const std::vector<double> x = ramp();
  double total = 0;
  for (std::size_t step = 0; step < steps; ++step) {
    std::vector<double> average(kD, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const auto sent = quantized.send_and_decode(j, x, step);
      for (std::size_t i = 0; i < kD; ++i) average[i] += sent[i] / static_cast<double>(n);
    }
    total += squared_distance(average, x);
  }
  return total / static_cast<double>(steps);
}

TEST(QuantizerRandomness, RandKAsAQuantizerIsPrivateUnlessTheSpecSaysShared) {
  EXPECT_EQ(make_compressor(kUnbiasedRandK, CompressorRole::kQuantizer)->spec(),
            "randk:ratio=0.25,shared=false,unbiased=true,scope=model,index=auto,values=auto");
  EXPECT_EQ(make_compressor(kUnbiasedRandK)->spec(),
            "randk:ratio=0.25,shared=true,unbiased=true,scope=model,index=auto,values=auto");
  EXPECT_EQ(make_compressor(kUnbiasedRandK, CompressorRole::kSynchronizedQuantizer)->spec(),
            make_compressor(kUnbiasedRandK)->spec());
  EXPECT_EQ(make_compressor(kUnbiasedRandK + ",shared=true", CompressorRole::kQuantizer)->spec(),
            make_compressor(kUnbiasedRandK)->spec());
}

// ω = d/k − 1 = 3: averaging n independent quantizations divides the variance by n; one shared
// draw (every worker the same indices) does not.
TEST(QuantizerRandomness, AveragingPrivateQuantizationsDividesTheVarianceByN) {
  const double omega = 3;
  const double norm2 = squared_distance(ramp(), std::vector<double>(kD, 0.0));
  constexpr std::size_t kWorkers = 8, kSteps = 4000;
  const double private_error = mean_error_of_average(CompressorRole::kQuantizer, kWorkers, kSteps);
  const double shared_error =
      mean_error_of_average(CompressorRole::kSynchronizedQuantizer, kWorkers, kSteps);
  // E‖Q(x) − x‖² = (d/k − 1)‖x‖² exactly for unbiased Random-k; 4,000 draws put the sample
  // mean within a few percent.
  EXPECT_NEAR(private_error, omega * norm2 / kWorkers, 0.1 * omega * norm2 / kWorkers);
  EXPECT_NEAR(shared_error, omega * norm2, 0.1 * omega * norm2);
}

TEST(QuantizerRandomness, CompressorAndQuantizerDrawFromIndependentStreams) {
  const Layout layout = Layout::flat(kD);
  const std::string spec = "randk:ratio=0.25,shared=false";
  WorkerCompression<double> compressed(spec, layout, 7, {1, 0, 1, 1}, CompressorRole::kCompressor);
  WorkerCompression<double> quantized(spec, layout, 7, {1, 0, 1, 1}, CompressorRole::kQuantizer);
  EXPECT_NE(compressed.seed(), quantized.seed());
  const std::vector<double> x = ramp();
  std::size_t same_draws = 0;
  constexpr std::size_t kSteps = 50;
  for (std::size_t step = 0; step < kSteps; ++step) {
    const auto by_compressor = kept(compressed.send_and_decode(0, x, step));
    const auto by_quantizer = kept(quantized.send_and_decode(0, x, step));
    ASSERT_EQ(by_compressor.size(), kD / 4);
    ASSERT_EQ(by_quantizer.size(), kD / 4);
    if (by_compressor == by_quantizer) ++same_draws;
  }
  EXPECT_EQ(same_draws, 0U);  // one stream would give the same 16 of 64 indices at every step
}

}  // namespace
}  // namespace gradcomp::testing
