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
