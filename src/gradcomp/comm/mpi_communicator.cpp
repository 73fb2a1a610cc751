#include "gradcomp/comm/mpi_communicator.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "gradcomp/comm/ring.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

constexpr int kRingTag = 0x4743;

template <class T>
MPI_Datatype datatype() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
}

// MPI counts are int: a larger part is refused with the numbers rather than truncated.
int count_of(std::size_t count, const char* what) {
  require(count <= static_cast<std::size_t>(INT_MAX),
          "{} of {} elements exceeds MPI's limit of {} per call; use fewer or smaller workers "
          "per rank",
          what, count, INT_MAX);
  return static_cast<int>(count);
}

struct CountsAndDisplacements {
  std::vector<int> counts;
  std::vector<int> displacements;
};

CountsAndDisplacements counts_of(std::span<const std::uint64_t> sizes, const char* what) {
  CountsAndDisplacements result;
  std::size_t offset = 0;
  for (const std::uint64_t size : sizes) {
    result.counts.push_back(count_of(size, what));
    result.displacements.push_back(count_of(offset, what));
    offset += size;
  }
  count_of(offset, what);
  return result;
}

// Every rank states every rank's size; a rank whose own part disagrees is a bug in the caller.
void check_own_size(std::span<const std::uint64_t> rank_sizes, std::size_t size, std::size_t rank,
                    std::size_t mine, const char* what) {
  require<InternalError>(rank_sizes.size() == size && rank_sizes[rank] == mine,
                         "{}: rank {} gives {} bytes, the sizes say otherwise", what, rank, mine);
}

std::uint64_t total_except(std::span<const std::uint64_t> sizes, std::size_t rank) {
  std::uint64_t total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) total += r == rank ? 0 : sizes[r];
  return total;
}

}  // namespace

AllreduceAlgorithm parse_allreduce_algorithm(const std::string& name) {
  if (name == "ring") return AllreduceAlgorithm::kRing;
  if (name == "library") return AllreduceAlgorithm::kLibrary;
  throw InvalidInput(fmt::format(
      "unknown allreduce algorithm '{}'; choose ring (gradcomp's own) or library (MPI_Allreduce)",
      name));
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, AllreduceAlgorithm algorithm)
    : algorithm_(algorithm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  require<InternalError>(initialized != 0, "MpiCommunicator needs MPI_Init first (MpiSession)");
  MPI_Comm_dup(comm, &comm_);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(comm_, &rank);
  MPI_Comm_size(comm_, &size);
  rank_ = static_cast<std::size_t>(rank);
  size_ = static_cast<std::size_t>(size);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0 && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::string MpiCommunicator::name() const {
  return algorithm_ == AllreduceAlgorithm::kRing ? "mpi" : "mpi-library";
}

template <class T>
void MpiCommunicator::allreduce(std::span<T> data) {
  if (size_ == 1 || data.empty()) return;
  if (algorithm_ == AllreduceAlgorithm::kRing) {
    ring_allreduce(data);
    return;
  }
  // The library's own algorithm decides what moves; the counters cannot see it.
  MPI_Allreduce(MPI_IN_PLACE, data.data(), count_of(data.size(), "allreduce"), datatype<T>(),
                MPI_SUM, comm_);
}

// docs/exchange.md §2.4: each rank sends and receives 2(p−1)/p of the payload.
template <class T>
void MpiCommunicator::ring_allreduce(std::span<T> data) {
  const std::size_t m = data.size();
  const std::size_t p = size_;
  const int right = static_cast<int>((rank_ + 1) % p);
  const int left = static_cast<int>((rank_ + p - 1) % p);
  scratch_.resize(sizeof(T) * (m / p + 1));
  T* incoming = reinterpret_cast<T*>(scratch_.data());
  auto exchange = [&](ring::Range send, ring::Range receive, T* into) {
    MPI_Sendrecv(data.data() + send.begin, count_of(send.size(), "ring chunk"), datatype<T>(),
                 right, kRingTag, into, count_of(receive.size(), "ring chunk"), datatype<T>(), left,
                 kRingTag, comm_, MPI_STATUS_IGNORE);
    counters_.payload_sent += sizeof(T) * send.size();
    counters_.payload_received += sizeof(T) * receive.size();
  };
  for (std::size_t s = 0; s + 1 < p; ++s) {
    const ring::Range send = ring::chunk(m, p, ring::reduce_scatter_send(rank_, s, p));
    const ring::Range receive = ring::chunk(m, p, ring::reduce_scatter_receive(rank_, s, p));
    exchange(send, receive, incoming);
    T* target = data.data() + receive.begin;
    for (std::size_t i = 0; i < receive.size(); ++i) target[i] += incoming[i];
  }
  for (std::size_t s = 0; s + 1 < p; ++s) {
    const ring::Range send = ring::chunk(m, p, ring::allgather_send(rank_, s, p));
    const ring::Range receive = ring::chunk(m, p, ring::allgather_receive(rank_, s, p));
    exchange(send, receive, data.data() + receive.begin);
  }
}

void MpiCommunicator::allreduce_sum(std::span<float> data) {
  allreduce(data);
}
void MpiCommunicator::allreduce_sum(std::span<double> data) {
  allreduce(data);
}
void MpiCommunicator::allreduce_sum(std::span<std::int64_t> data) {
  allreduce(data);
}

std::vector<std::uint64_t> MpiCommunicator::allgather_fixed(std::span<const std::uint64_t> mine) {
  std::vector<std::uint64_t> all(mine.size() * size_);
  const int count = count_of(mine.size(), "allgather");
  MPI_Allgather(mine.data(), count, MPI_UINT64_T, all.data(), count, MPI_UINT64_T, comm_);
  counters_.control_received += sizeof(std::uint64_t) * mine.size() * (size_ - 1);
  return all;
}

void MpiCommunicator::allgather_bytes(std::span<const std::uint8_t> mine,
                                      std::span<const std::uint64_t> rank_sizes,
                                      std::span<std::uint8_t> all) {
  check_own_size(rank_sizes, size_, rank_, mine.size(), "allgather");
  if (algorithm_ == AllreduceAlgorithm::kRing) {
    ring_allgather(mine, rank_sizes, all);
  } else {
    // The library's choice: Open MPI's default for blocks of a megabyte moved them twice over
    // some links (docs/benchmarks.md "The exchange on an emulated cluster").
    allgather_control_bytes(mine, rank_sizes, all);
  }
}

void MpiCommunicator::allgather_control_bytes(std::span<const std::uint8_t> mine,
                                              std::span<const std::uint64_t> rank_sizes,
                                              std::span<std::uint8_t> all) {
  check_own_size(rank_sizes, size_, rank_, mine.size(), "allgather");
  const CountsAndDisplacements layout = counts_of(rank_sizes, "allgather");
  MPI_Allgatherv(mine.data(), layout.counts[rank_], MPI_BYTE, all.data(), layout.counts.data(),
                 layout.displacements.data(), MPI_BYTE, comm_);
  counters_.payload_received += total_except(rank_sizes, rank_);
}

void MpiCommunicator::ring_allgather(std::span<const std::uint8_t> mine,
                                     std::span<const std::uint64_t> rank_sizes,
                                     std::span<std::uint8_t> all) {
  const CountsAndDisplacements layout = counts_of(rank_sizes, "allgather");
  const std::size_t p = size_;
  const int right = static_cast<int>((rank_ + 1) % p);
  const int left = static_cast<int>((rank_ + p - 1) % p);
  std::copy(mine.begin(), mine.end(), all.begin() + layout.displacements[rank_]);
  for (std::size_t s = 0; s + 1 < p; ++s) {
    const std::size_t send = ring::wrap(rank_, s, p);         // received at the step before
    const std::size_t receive = ring::wrap(rank_, s + 1, p);  // left neighbour's previous block
    MPI_Sendrecv(all.data() + layout.displacements[send], layout.counts[send], MPI_BYTE, right,
                 kRingTag, all.data() + layout.displacements[receive], layout.counts[receive],
                 MPI_BYTE, left, kRingTag, comm_, MPI_STATUS_IGNORE);
    counters_.payload_sent += rank_sizes[send];
    counters_.payload_received += rank_sizes[receive];
  }
}

void MpiCommunicator::gather_bytes(std::span<const std::uint8_t> mine,
                                   std::span<const std::uint64_t> rank_sizes,
                                   std::span<std::uint8_t> all, std::size_t root) {
  check_own_size(rank_sizes, size_, rank_, mine.size(), "gather");
  const CountsAndDisplacements layout = counts_of(rank_sizes, "gather");
  MPI_Gatherv(mine.data(), layout.counts[rank_], MPI_BYTE, all.data(), layout.counts.data(),
              layout.displacements.data(), MPI_BYTE, static_cast<int>(root), comm_);
  if (rank_ == root) counters_.payload_received += total_except(rank_sizes, rank_);
}

void MpiCommunicator::broadcast_bytes(std::span<std::uint8_t> bytes, std::size_t root) {
  MPI_Bcast(bytes.data(), count_of(bytes.size(), "broadcast"), MPI_BYTE, static_cast<int>(root),
            comm_);
  if (rank_ != root) counters_.payload_received += bytes.size();
}

void MpiCommunicator::barrier() {
  MPI_Barrier(comm_);
}

}  // namespace gradcomp
