#include "gradcomp/comm/local_communicator.hpp"

#include <algorithm>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

std::vector<std::uint64_t> LocalCommunicator::allgather_fixed(std::span<const std::uint64_t> mine) {
  return {mine.begin(), mine.end()};
}

void LocalCommunicator::allgather_bytes(std::span<const std::uint8_t> mine,
                                        std::span<const std::uint64_t> rank_sizes,
                                        std::span<std::uint8_t> all) {
  require<InternalError>(
      rank_sizes.size() == 1 && rank_sizes[0] == mine.size() && all.size() == mine.size(),
      "local allgather: sizes do not match the single rank's part");
  std::copy(mine.begin(), mine.end(), all.begin());
}

void LocalCommunicator::gather_bytes(std::span<const std::uint8_t> mine,
                                     std::span<const std::uint64_t> rank_sizes,
                                     std::span<std::uint8_t> all, std::size_t root) {
  require<InternalError>(root == 0, "local gather: root {} does not exist", root);
  allgather_bytes(mine, rank_sizes, all);
}

}  // namespace gradcomp
