// chained_sum: the sum of the workers' vectors, thread by thread and piece by piece, is the
// sequential loop's out = (0 + s·v_0) + s·v_1 + … bit for bit, for any number of threads, workers
// and coordinates (fewer workers than threads, fewer coordinates than a piece, more pieces than
// the cap), and it overwrites what `out` held.
#include "gradcomp/comm/chained_sum.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "gradcomp/core/random.hpp"

namespace gradcomp {
namespace {

// Values over many binades, so that any other order or grouping of the additions rounds
// differently somewhere; every 17th a −0 and every 13th a +0.
std::vector<std::vector<float>> vectors_for(std::size_t workers, std::size_t d,
                                            std::uint64_t seed) {
  RandomStream stream(seed, Purpose::kTest, 0, 0, 0);
  std::vector<std::vector<float>> out(workers, std::vector<float>(d));
  for (auto& v : out) {
    for (std::size_t i = 0; i < d; ++i) {
      const double scale = std::ldexp(1.0, static_cast<int>(stream.below(40)) - 20);
      v[i] = i % 17 == 0 ? -0.0F : i % 13 == 0 ? 0.0F : static_cast<float>(stream.normal() * scale);
    }
  }
  return out;
}

std::vector<float> sequential_sum(const std::vector<std::vector<float>>& vectors, float weight,
                                  std::size_t d) {
  std::vector<float> out(d, 0.0F);
  for (const auto& v : vectors) {
    elementwise<float>().add_scaled(out.data(), weight, v.data(), out.data(), d);
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ChainedSum, IsTheSequentialSumBitForBitOnAnyNumberOfThreads) {
  for (const std::size_t threads : {1UL, 2UL, 3UL, 4UL}) {
    WorkerPool pool(threads);
    for (const std::size_t workers : {1UL, 2UL, 3UL, 5UL, 20UL}) {
      for (const std::size_t d : {1UL, 7UL, 2047UL, 2048UL, 5000UL, 40000UL, 70000UL}) {
        const auto vectors = vectors_for(workers, d, workers * 100003 + d);
        std::vector<std::span<const float>> spans(vectors.begin(), vectors.end());
        for (const float weight : {0.05F, -1.0F}) {
          const std::vector<float> expected = sequential_sum(vectors, weight, d);
          std::vector<float> out(d, 7.0F);  // overwritten, not added to
          chained_sum<float>(pool, spans, weight, out);
          EXPECT_TRUE(same_bits(out, expected)) << threads << " threads, " << workers
                                                << " workers, d = " << d << ", weight " << weight;
          EXPECT_FALSE(std::signbit(out[0])) << "a sum of zeros is +0";
        }
      }
    }
  }
}

// Summing in another order is caught: the data above does tell orders apart.
TEST(ChainedSum, TheTestDataTellsTheOrderOfTheWorkersApart) {
  const auto vectors = vectors_for(20, 5000, 7);
  std::vector<std::vector<float>> reversed(vectors.rbegin(), vectors.rend());
  EXPECT_FALSE(
      same_bits(sequential_sum(vectors, 0.05F, 5000), sequential_sum(reversed, 0.05F, 5000)));
}

}  // namespace
}  // namespace gradcomp
