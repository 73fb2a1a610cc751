#pragma once
// The `local` backend: one process hosts every worker, so every collective between processes is
// the identity and nothing crosses a transport. The exchange box loops over the workers itself.
#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

class LocalCommunicator final : public Communicator {
 public:
  [[nodiscard]] std::size_t rank() const override { return 0; }
  [[nodiscard]] std::size_t size() const override { return 1; }
  [[nodiscard]] std::string name() const override { return "local"; }

  void allreduce_sum(std::span<float>) override {}
  void allreduce_sum(std::span<double>) override {}
  void allreduce_sum(std::span<std::int64_t>) override {}
  std::vector<std::uint64_t> allgather_fixed(std::span<const std::uint64_t> mine) override;
  void allgather_bytes(std::span<const std::uint8_t> mine,
                       std::span<const std::uint64_t> rank_sizes,
                       std::span<std::uint8_t> all) override;
  void gather_bytes(std::span<const std::uint8_t> mine, std::span<const std::uint64_t> rank_sizes,
                    std::span<std::uint8_t> all, std::size_t root) override;
  void broadcast_bytes(std::span<std::uint8_t>, std::size_t) override {}
  void barrier() override {}
};

}  // namespace gradcomp
