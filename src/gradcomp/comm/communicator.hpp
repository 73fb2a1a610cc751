#pragma once
// Communicator: the processes of a job and the collectives between them (docs/architecture.md,
// comm/). Workers are logical: one process hosts n/p of them (WorkerGroup), and the exchange box
// combines a process's own workers before it calls these collectives. Two implementations: `local`
// (one process, every collective is the identity) and `mpi` (Open MPI, p ranks).
//
// Every call is collective: all ranks call it in the same order with compatible arguments.
// Counters record the bytes that actually crossed between ranks, so tests can compare them with
// the traffic model of exchange/traffic.hpp.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gradcomp {

// Bytes this rank moved through the transport since the counters were last reset.
struct TransportCounters {
  std::uint64_t payload_sent = 0;      // handed to point-to-point sends (the own ring allreduce)
  std::uint64_t payload_received = 0;  // arrived from other ranks, any collective
  std::uint64_t control_received = 0;  // sizes exchanged before variable-size payloads
};

// The result of a variable-size gather: every rank's bytes back to back, in rank order.
struct GatheredBytes {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> offsets;  // size() + 1 entries; part r is [offsets[r], offsets[r+1])

  [[nodiscard]] std::span<const std::uint8_t> part(std::size_t rank) const {
    return std::span<const std::uint8_t>(bytes).subspan(offsets[rank],
                                                        offsets[rank + 1] - offsets[rank]);
  }
};

// Offsets of parts with the given sizes: {0, s0, s0+s1, ...}.
std::vector<std::size_t> prefix_offsets(std::span<const std::uint64_t> sizes);

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  [[nodiscard]] virtual std::size_t rank() const = 0;
  [[nodiscard]] virtual std::size_t size() const = 0;
  // "local", "mpi" or "mpi-ring": what `gradcomp` prints and the handshake compares.
  [[nodiscard]] virtual std::string name() const = 0;

  // In place: data = Σ over ranks, identical on every rank afterwards.
  virtual void allreduce_sum(std::span<float> data) = 0;
  virtual void allreduce_sum(std::span<double> data) = 0;
  virtual void allreduce_sum(std::span<std::int64_t> data) = 0;

  // Fixed-size allgather of small integers (sizes, handshakes): every rank gives mine.size()
  // values; the result holds them rank by rank. Counted as control traffic.
  virtual std::vector<std::uint64_t> allgather_fixed(std::span<const std::uint64_t> mine) = 0;
  // Variable-size allgather whose sizes every rank already knows (rank_sizes, one per rank):
  // `all` receives every rank's bytes back to back.
  virtual void allgather_bytes(std::span<const std::uint8_t> mine,
                               std::span<const std::uint64_t> rank_sizes,
                               std::span<std::uint8_t> all) = 0;
  // Every rank's bytes to `root`, whose `all` receives them back to back (others' is ignored).
  virtual void gather_bytes(std::span<const std::uint8_t> mine,
                            std::span<const std::uint64_t> rank_sizes, std::span<std::uint8_t> all,
                            std::size_t root) = 0;
  // Root's bytes to every rank; the receivers' span must already have the root's size.
  virtual void broadcast_bytes(std::span<std::uint8_t> bytes, std::size_t root) = 0;
  virtual void barrier() = 0;

  // Conveniences built on the above: sizes first, so parts of different lengths never hang.
  // allgather is for control data (handshakes, host names): it moves the bytes the same way on
  // every rank whatever the rank's settings, so a rank started with another workers.allreduce is
  // found by the handshake instead of waiting in another algorithm's collective.
  GatheredBytes allgather(std::span<const std::uint8_t> mine);
  void broadcast(std::vector<std::uint8_t>& bytes, std::size_t root);

  [[nodiscard]] const TransportCounters& counters() const { return counters_; }
  void reset_counters() { counters_ = {}; }

 protected:
  // allgather's transport: allgather_bytes unless a communicator's payload algorithm depends on
  // its settings.
  virtual void allgather_control_bytes(std::span<const std::uint8_t> mine,
                                       std::span<const std::uint64_t> rank_sizes,
                                       std::span<std::uint8_t> all) {
    allgather_bytes(mine, rank_sizes, all);
  }

  TransportCounters counters_;
};

}  // namespace gradcomp
