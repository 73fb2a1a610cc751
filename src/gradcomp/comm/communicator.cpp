#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

std::vector<std::size_t> prefix_offsets(std::span<const std::uint64_t> sizes) {
  std::vector<std::size_t> offsets(sizes.size() + 1, 0);
  for (std::size_t r = 0; r < sizes.size(); ++r) offsets[r + 1] = offsets[r] + sizes[r];
  return offsets;
}

GatheredBytes Communicator::allgather(std::span<const std::uint8_t> mine) {
  const std::uint64_t my_size = mine.size();
  const std::vector<std::uint64_t> sizes = allgather_fixed(std::span(&my_size, 1));
  GatheredBytes result;
  result.offsets = prefix_offsets(sizes);
  result.bytes.resize(result.offsets.back());
  allgather_control_bytes(mine, sizes, result.bytes);
  return result;
}

void Communicator::broadcast(std::vector<std::uint8_t>& bytes, std::size_t root) {
  if (this->size() == 1) return;  // the root's bytes are already here
  std::uint64_t size = bytes.size();
  std::vector<std::uint64_t> sizes = allgather_fixed(std::span(&size, 1));
  bytes.resize(sizes[root]);
  broadcast_bytes(bytes, root);
}

}  // namespace gradcomp
