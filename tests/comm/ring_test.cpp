// The ring schedule (comm/ring.hpp) shared by the MPI allreduce and the traffic model: simulated
// here with p in-process "ranks", it must produce the sum on every rank, and its byte counts must
// be the 2(p−1)/p·m of docs/exchange.md §2.4.
#include "gradcomp/comm/ring.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {
namespace {

// Runs the schedule on p vectors in memory, exactly as MpiCommunicator::ring_allreduce does.
std::vector<std::vector<long>> simulate_ring(std::vector<std::vector<long>> data) {
  const std::size_t p = data.size();
  const std::size_t m = data[0].size();
  for (std::size_t s = 0; s + 1 < p; ++s) {
    auto before = data;
    for (std::size_t r = 0; r < p; ++r) {
      const std::size_t left = (r + p - 1) % p;
      const ring::Range in = ring::chunk(m, p, ring::reduce_scatter_receive(r, s, p));
      EXPECT_EQ(ring::reduce_scatter_send(left, s, p), ring::reduce_scatter_receive(r, s, p));
      for (std::size_t i = in.begin; i < in.end; ++i) data[r][i] += before[left][i];
    }
  }
  for (std::size_t s = 0; s + 1 < p; ++s) {
    auto before = data;
    for (std::size_t r = 0; r < p; ++r) {
      const std::size_t left = (r + p - 1) % p;
      EXPECT_EQ(ring::allgather_send(left, s, p), ring::allgather_receive(r, s, p));
      const ring::Range in = ring::chunk(m, p, ring::allgather_receive(r, s, p));
      for (std::size_t i = in.begin; i < in.end; ++i) data[r][i] = before[left][i];
    }
  }
  return data;
}

TEST(Ring, ScheduleSumsOnEveryRank) {
  for (const std::size_t p : {1U, 2U, 3U, 4U, 7U}) {
    for (const std::size_t m : {0U, 1U, 5U, 64U, 1001U}) {
      std::vector<std::vector<long>> data(p, std::vector<long>(m));
      std::vector<long> expected(m, 0);
      for (std::size_t r = 0; r < p; ++r) {
        for (std::size_t i = 0; i < m; ++i) {
          data[r][i] = static_cast<long>((r + 1) * 1000 + i * i);
          expected[i] += data[r][i];
        }
      }
      const auto result = simulate_ring(data);
      for (std::size_t r = 0; r < p; ++r) EXPECT_EQ(result[r], expected) << "p=" << p << " m=" << m;
    }
  }
}

TEST(Ring, EachRankMovesTwoTimesPMinusOneOverPOfThePayload) {
  EXPECT_EQ(ring::elements_sent(1000, 4, 0), 1500U);  // 2·3/4·1000
  EXPECT_EQ(ring::elements_received(1000, 4, 3), 1500U);
  EXPECT_EQ(ring::elements_sent(1000, 1, 0), 0U);
  EXPECT_EQ(ring::elements_sent(10, 2, 0), 10U);  // 2·1/2·10
  // Uneven chunks: totals over ranks are exactly 2(p−1)·m.
  std::size_t sent = 0;
  std::size_t received = 0;
  for (std::size_t r = 0; r < 3; ++r) {
    sent += ring::elements_sent(1001, 3, r);
    received += ring::elements_received(1001, 3, r);
  }
  EXPECT_EQ(sent, 2U * 2U * 1001U);
  EXPECT_EQ(received, sent);
}

// The closed forms equal the sum of the chunks of the schedule's steps 0..p−2, rank by rank.
TEST(Ring, ElementCountsEqualTheScheduleSummedStepByStep) {
  for (std::size_t p = 1; p <= 13; ++p) {
    for (const std::size_t m : {0UL, 1UL, 7UL, 100UL, 1001UL, 5003UL}) {
      for (std::size_t r = 0; r < p; ++r) {
        std::size_t sent = 0;
        std::size_t received = 0;
        for (std::size_t s = 0; s + 1 < p; ++s) {
          sent += ring::chunk(m, p, ring::reduce_scatter_send(r, s, p)).size() +
                  ring::chunk(m, p, ring::allgather_send(r, s, p)).size();
          received += ring::chunk(m, p, ring::reduce_scatter_receive(r, s, p)).size() +
                      ring::chunk(m, p, ring::allgather_receive(r, s, p)).size();
        }
        EXPECT_EQ(ring::elements_sent(m, p, r), sent) << "p=" << p << " m=" << m << " r=" << r;
        EXPECT_EQ(ring::elements_received(m, p, r), received) << "p=" << p << " m=" << m;
      }
    }
  }
}

TEST(LocalCommunicator, CollectivesAreTheIdentity) {
  LocalCommunicator local;
  std::vector<float> x{1, 2, 3};
  local.allreduce_sum(std::span<float>(x));
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3}));
  const std::vector<std::uint8_t> bytes{9, 8, 7};
  const GatheredBytes all = local.allgather(bytes);
  EXPECT_EQ(all.bytes, bytes);
  EXPECT_EQ(all.offsets, (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(local.counters().payload_received, 0U);
}

TEST(WorkerGroup, SplitsContiguouslyAndRejectsUnevenCounts) {
  LocalCommunicator local;
  const WorkerGroup group = WorkerGroup::split(20, local);
  EXPECT_EQ(group.total, 20U);
  EXPECT_EQ(group.first, 0U);
  EXPECT_EQ(group.count, 20U);
  EXPECT_EQ(group.rank_of(19), 0U);
  try {
    (void)WorkerGroup::split(0, local);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "the number of workers must be at least 1");
  }
  EXPECT_EQ(prefix_offsets(std::vector<std::uint64_t>{3, 0, 5}),
            (std::vector<std::size_t>{0, 3, 3, 8}));
}

}  // namespace
}  // namespace gradcomp
