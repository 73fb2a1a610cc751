#pragma once
// The `mpi` backend: p Open MPI ranks. Allreduce runs either gradcomp's own ring over
// point-to-point messages (comm/ring.hpp; the default, because its traffic is exactly the model's
// and bucketed or compressed variants can be built on it) or MPI_Allreduce (`library`).
// Variable-size parts always travel after their sizes, so parts of different lengths never hang.
#include <mpi.h>

#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

enum class AllreduceAlgorithm { kRing, kLibrary };

// "ring" or "library"; anything else is InvalidInput listing both.
AllreduceAlgorithm parse_allreduce_algorithm(const std::string& name);

class MpiCommunicator final : public Communicator {
 public:
  // Duplicates `comm`, so gradcomp's messages never mix with the caller's.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD,
                           AllreduceAlgorithm algorithm = AllreduceAlgorithm::kRing);
  ~MpiCommunicator() override;

  [[nodiscard]] std::size_t rank() const override { return rank_; }
  [[nodiscard]] std::size_t size() const override { return size_; }
  [[nodiscard]] std::string name() const override;

  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  void allreduce_sum(std::span<std::int64_t> data) override;
  std::vector<std::uint64_t> allgather_fixed(std::span<const std::uint64_t> mine) override;
  void allgather_bytes(std::span<const std::uint8_t> mine,
                       std::span<const std::uint64_t> rank_sizes,
                       std::span<std::uint8_t> all) override;
  void gather_bytes(std::span<const std::uint8_t> mine, std::span<const std::uint64_t> rank_sizes,
                    std::span<std::uint8_t> all, std::size_t root) override;
  void broadcast_bytes(std::span<std::uint8_t> bytes, std::size_t root) override;
  void barrier() override;

 protected:
  // MPI_Allgatherv on every rank, whatever its algorithm (the handshake compares them).
  void allgather_control_bytes(std::span<const std::uint8_t> mine,
                               std::span<const std::uint64_t> rank_sizes,
                               std::span<std::uint8_t> all) override;

 private:
  template <class T>
  void allreduce(std::span<T> data);
  template <class T>
  void ring_allreduce(std::span<T> data);
  // Every rank's block to every rank around the ring: p − 1 steps, each rank forwarding the
  // block it received last; each link carries every block but one once (exchange/traffic.hpp).
  void ring_allgather(std::span<const std::uint8_t> mine, std::span<const std::uint64_t> rank_sizes,
                      std::span<std::uint8_t> all);

  MPI_Comm comm_ = MPI_COMM_NULL;
  AllreduceAlgorithm algorithm_;
  std::size_t rank_ = 0;
  std::size_t size_ = 1;
  std::vector<std::uint8_t> scratch_;  // the ring's receive buffer, reused between calls
};

}  // namespace gradcomp
