// Minibatches (train/batches.hpp): each pass visits a worker's shard once, in an order of its own,
// and a worker's batch is a function of the step alone (a resumed run draws the same batches).
#include "gradcomp/train/batches.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

namespace gradcomp {
namespace {

using Samples = std::vector<std::size_t>;

// Two workers on one rank: shards of 7 and 5 samples (7 and 5 are not multiples of the batches).
Shards two_shards() {
  Shards shards(2);
  for (std::size_t i = 0; i < 7; ++i) shards[0].push_back(100 + i);
  for (std::size_t i = 0; i < 5; ++i) shards[1].push_back(200 + i);
  return shards;
}

WorkerGroup one_rank() {
  WorkerGroup group;
  group.total = 2;
  group.count = 2;
  return group;
}

Samples copied(std::span<const std::size_t> samples) {
  return {samples.begin(), samples.end()};
}

// Every step's batch of worker j from a fresh Batches, one call each.
std::vector<Samples> drawn_alone(const Shards& shards, const std::string& size, std::size_t j,
                                 std::uint64_t steps) {
  std::vector<Samples> all;
  for (std::uint64_t t = 0; t < steps; ++t) {
    Batches batches(shards, one_rank(), size, 42);
    all.push_back(copied(batches.batch(j, t)));
  }
  return all;
}

TEST(Batches, EachPassVisitsTheShardOnceInAnOrderOfItsOwn) {
  const Shards shards = two_shards();
  Batches batches(shards, one_rank(), "1", 42);
  std::vector<Samples> passes(3);  // 21 steps of one sample: three passes over 7
  for (std::uint64_t t = 0; t < 21; ++t) passes[t / 7].push_back(batches.batch(0, t)[0]);
  for (Samples pass : passes) {
    std::sort(pass.begin(), pass.end());
    EXPECT_EQ(pass, shards[0]);
  }
  EXPECT_NE(passes[0], passes[1]);
}

// Steps taken in turn, or one alone from a fresh Batches (a resumed run), or out of order, give
// the same batch: batches of 1, of 3 (which straddle a pass's end) and of 6 (more than worker 1's
// shard of 5), over three passes.
TEST(Batches, ABatchIsAFunctionOfTheStepAlone) {
  const Shards shards = two_shards();
  for (const std::string size : {"1", "3", "6"}) {
    for (std::size_t j = 0; j < 2; ++j) {
      const std::vector<Samples> alone = drawn_alone(shards, size, j, 22);
      Batches in_turn(shards, one_rank(), size, 42);
      for (std::uint64_t t = 0; t < 22; ++t) {
        EXPECT_EQ(copied(in_turn.batch(j, t)), alone[t])
            << size << ", worker " << j << ", step " << t;
        static_cast<void>(in_turn.batch(1 - j, t + 5));  // the other worker's draws do not matter
      }
      Batches backwards(shards, one_rank(), size, 42);
      for (std::uint64_t t = 22; t-- > 0;) EXPECT_EQ(copied(backwards.batch(j, t)), alone[t]) << t;
    }
  }
  // A batch of 3 from a shard of 7: step 2 takes the last sample of pass 0 and two of pass 1.
  Batches batches(shards, one_rank(), "3", 42);
  Samples pass0;
  Samples pass1;
  for (std::uint64_t t = 0; t < 5; ++t) {
    const Samples drawn = copied(batches.batch(0, t));
    ASSERT_EQ(drawn.size(), 3U);
    for (std::size_t k = 0; k < 3; ++k) {
      const std::uint64_t position = 3 * t + k;
      if (position < 14) (position < 7 ? pass0 : pass1).push_back(drawn[k]);
    }
  }
  std::sort(pass0.begin(), pass0.end());
  std::sort(pass1.begin(), pass1.end());
  EXPECT_EQ(pass0, shards[0]);
  EXPECT_EQ(pass1, shards[0]);
}

TEST(Batches, AFullBatchIsTheWholeShardAtEveryStep) {
  const Shards shards = two_shards();
  Batches batches(shards, one_rank(), "full", 42);
  EXPECT_EQ(copied(batches.batch(1, 3)), shards[1]);
  EXPECT_EQ(copied(batches.batch(0, 4)), shards[0]);
  EXPECT_EQ(batches.steps_per_epoch(12, 2), 1U);
  EXPECT_EQ(Batches(shards, one_rank(), "2", 42).steps_per_epoch(12, 2), 3U);  // 12 / (2·2)
}

}  // namespace
}  // namespace gradcomp
