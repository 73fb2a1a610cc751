// The MPI communicator's collectives, on every allreduce algorithm, with parts of every size
// (including empty ones, and fewer elements than ranks), and its transport counters.
#include <gtest/gtest.h>

#include <numeric>

#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/ring.hpp"

namespace gradcomp {
namespace {

TEST(MpiCollectives, AllreduceSumsExactlyOnBothAlgorithms) {
  for (const auto algorithm : {AllreduceAlgorithm::kRing, AllreduceAlgorithm::kLibrary}) {
    MpiCommunicator comm(MPI_COMM_WORLD, algorithm);
    const std::size_t p = comm.size();
    for (const std::size_t m : {0U, 1U, 3U, 1000U, 100'003U}) {
      // Small integers: float sums are exact in any order.
      std::vector<float> x(m);
      std::vector<double> y(m);
      std::vector<std::int64_t> z(m);
      for (std::size_t i = 0; i < m; ++i) {
        x[i] = static_cast<float>((comm.rank() + 1) * (i % 7));
        y[i] = static_cast<double>(comm.rank()) - static_cast<double>(i % 5);
        z[i] = static_cast<std::int64_t>(comm.rank() * i);
      }
      comm.allreduce_sum(std::span<float>(x));
      comm.allreduce_sum(std::span<double>(y));
      comm.allreduce_sum(std::span<std::int64_t>(z));
      // Counted, not asserted element by element: a rank must not leave the loop (and its
      // collectives) early.
      const double ranks = static_cast<double>(p);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < m; ++i) {
        wrong += x[i] != static_cast<float>(ranks * (ranks + 1) / 2 * static_cast<double>(i % 7));
        wrong += y[i] != ranks * (ranks - 1) / 2 - ranks * static_cast<double>(i % 5);
        wrong += z[i] != static_cast<std::int64_t>(p * (p - 1) / 2 * i);
      }
      EXPECT_EQ(wrong, 0U) << "m = " << m << ", " << comm.name();
    }
  }
}

TEST(MpiCollectives, RingCountersAreTheRingSchedule) {
  MpiCommunicator comm;
  const std::size_t m = 12'345;
  std::vector<float> x(m, 1.0F);
  comm.allreduce_sum(std::span<float>(x));
  EXPECT_EQ(comm.counters().payload_sent, 4 * ring::elements_sent(m, comm.size(), comm.rank()));
  EXPECT_EQ(comm.counters().payload_received,
            4 * ring::elements_received(m, comm.size(), comm.rank()));
  // 2(p−1)/p of the payload, up to the uneven chunks.
  const double share = static_cast<double>(comm.counters().payload_sent) / (4.0 * m);
  const double p = static_cast<double>(comm.size());
  EXPECT_NEAR(share, 2 * (p - 1) / p, 2 * p / m);
}

// The payload all-gather: gradcomp's ring (the default) and MPI_Allgatherv give the same bytes;
// the ring's counters are the traffic model's (exchange/traffic.hpp): a rank receives every
// other block once and sends every block but its right neighbour's.
TEST(MpiCollectives, RingAllgatherEqualsTheLibrarysAndMovesWhatTheModelCounts) {
  std::vector<std::vector<std::uint8_t>> results;
  for (const auto algorithm : {AllreduceAlgorithm::kRing, AllreduceAlgorithm::kLibrary}) {
    MpiCommunicator comm(MPI_COMM_WORLD, algorithm);
    const std::size_t p = comm.size();
    std::vector<std::uint64_t> sizes(p);
    for (std::size_t r = 0; r < p; ++r) sizes[r] = (r * 7919 + 13) % 5000;  // rank 0: 13 bytes
    sizes[p - 1] = 0;                                                       // an empty block
    std::vector<std::uint8_t> mine(sizes[comm.rank()]);
    for (std::size_t i = 0; i < mine.size(); ++i)
      mine[i] = static_cast<std::uint8_t>(31 * comm.rank() + i);
    std::vector<std::uint8_t> all(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
    comm.allgather_bytes(mine, sizes, all);
    std::size_t offset = 0;
    for (std::size_t r = 0; r < p; ++r) {
      for (std::size_t i = 0; i < sizes[r]; ++i)
        ASSERT_EQ(all[offset + i], static_cast<std::uint8_t>(31 * r + i)) << r << " " << i;
      offset += sizes[r];
    }
    const std::uint64_t total = std::accumulate(sizes.begin(), sizes.end(), std::uint64_t{0});
    EXPECT_EQ(comm.counters().payload_received, total - sizes[comm.rank()]);
    if (algorithm == AllreduceAlgorithm::kRing) {
      EXPECT_EQ(comm.counters().payload_sent, p == 1 ? 0 : total - sizes[(comm.rank() + 1) % p]);
    }
    results.push_back(all);
  }
  EXPECT_EQ(results[0], results[1]);
}

TEST(MpiCollectives, VariableSizeAllgatherGatherAndBroadcast) {
  MpiCommunicator comm;
  const std::size_t p = comm.size();
  // Rank r contributes r·3 bytes (rank 0 nothing) of value r+1.
  const std::vector<std::uint8_t> mine(comm.rank() * 3, static_cast<std::uint8_t>(comm.rank() + 1));
  const GatheredBytes all = comm.allgather(mine);
  EXPECT_EQ(all.offsets.size(), p + 1);
  for (std::size_t r = 0; r < p && all.offsets.size() == p + 1; ++r) {
    EXPECT_EQ(all.part(r).size(), r * 3);
    for (const std::uint8_t b : all.part(r)) EXPECT_EQ(b, r + 1);
  }
  EXPECT_EQ(comm.counters().payload_received, all.bytes.size() - mine.size());

  std::vector<std::uint64_t> sizes(p);
  for (std::size_t r = 0; r < p; ++r) sizes[r] = r * 3;
  const std::size_t root = p - 1;
  std::vector<std::uint8_t> at_root(comm.rank() == root ? all.bytes.size() : 0);
  comm.gather_bytes(mine, sizes, at_root, root);
  if (comm.rank() == root) {
    EXPECT_EQ(at_root, all.bytes);
  }

  std::vector<std::uint8_t> message;
  if (comm.rank() == root) message = {1, 2, 3, 4, 5};
  comm.broadcast(message, root);
  EXPECT_EQ(message, (std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace gradcomp
