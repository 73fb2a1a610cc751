// WorkerPool: every task runs exactly once per round, on more than one thread when the pool has
// them, rounds follow each other without a lost wake-up, and a failing round rethrows the lowest
// failing task's exception after every task has ended.
#include "gradcomp/comm/worker_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gradcomp {
namespace {

TEST(WorkerPool, RunsEveryTaskOnceInEveryRound) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.threads(), 3U);
  std::vector<std::atomic<int>> runs(37);
  for (int round = 0; round < 300; ++round) {
    pool.run(runs.size(), [&](std::size_t j) { runs[j].fetch_add(1); });
  }
  for (const auto& count : runs) EXPECT_EQ(count.load(), 300);
}

// More threads than cores, and tasks that give their core away: helpers wake late, holding a round
// the others have finished, and must take nothing from the rounds after it. Counts vary so that
// the shares move between rounds.
TEST(WorkerPool, LateHelpersTakeNothingFromLaterRounds) {
  WorkerPool pool(8);
  std::vector<std::atomic<int>> runs(42);
  for (std::size_t round = 0; round < 3000; ++round) {
    const std::size_t count = 2 + (round * 7) % 41;
    pool.run(count, [&](std::size_t j) {
      if (j % 3 == 0) std::this_thread::yield();
      runs[j].fetch_add(1);
    });
    for (std::size_t j = 0; j < runs.size(); ++j) {
      ASSERT_EQ(runs[j].exchange(0), j < count ? 1 : 0) << "task " << j << ", round " << round;
    }
  }
}

// A share counts its claimed tasks in 24 bits: a round of more than 2^24 tasks per thread runs
// as consecutive rounds, each task once.
TEST(WorkerPool, RunsRoundsLargerThanAShareCanCount) {
  WorkerPool pool(2);
  const std::size_t count = (std::size_t{1} << 25) + 3;
  std::vector<std::uint8_t> runs(count, 0);
  pool.run(count, [&](std::size_t j) { ++runs[j]; });  // each j on one thread: no race
  EXPECT_EQ(std::count(runs.begin(), runs.end(), 1), static_cast<std::ptrdiff_t>(count));
}

// The shares are count·t/threads: 20 tasks on 3 threads start at 0, 6 and 13.
TEST(WorkerPool, NamesTheFirstTaskOfEachShare) {
  const WorkerPool pool(3);
  std::vector<std::size_t> starts;
  for (std::size_t j = 0; j < 20; ++j) {
    if (pool.starts_share(j, 20)) starts.push_back(j);
  }
  EXPECT_EQ(starts, (std::vector<std::size_t>{0, 6, 13}));
  const WorkerPool one(1);
  EXPECT_TRUE(one.starts_share(0, 20));
  EXPECT_FALSE(one.starts_share(10, 20));
}

TEST(WorkerPool, UsesItsThreads) {
  WorkerPool pool(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  // Each of the first two tasks waits (up to 10 s, for a loaded machine) until two tasks have
  // started: only two threads can get there.
  std::atomic<int> started{0};
  pool.run(2, [&](std::size_t) {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    const std::lock_guard lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(seen.size(), 2U);
}

TEST(WorkerPool, OneThreadRunsInOrderOnTheCaller) {
  WorkerPool pool(1);
  std::vector<std::size_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  pool.run(5, [&](std::size_t j) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(j);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(WorkerPool(0).threads(), 1U);
}

TEST(WorkerPool, RethrowsTheLowestFailingTaskAfterAllEnded) {
  WorkerPool pool(3);
  std::atomic<int> finished{0};
  try {
    pool.run(30, [&](std::size_t j) {
      if (j == 7 || j == 21) throw std::runtime_error("task " + std::to_string(j));
      finished.fetch_add(1);
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 7");
  }
  EXPECT_EQ(finished.load(), 28);
  // The pool is usable after a failed round.
  std::atomic<int> after{0};
  pool.run(10, [&](std::size_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 10);
}

TEST(WorkerPool, AvailableCoresIsAtLeastOne) {
  EXPECT_GE(WorkerPool::available_cores(), 1U);
}

}  // namespace
}  // namespace gradcomp
