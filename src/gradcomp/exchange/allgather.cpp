// The allgather pattern: every worker's message reaches every worker (sizes first, so messages
// of different lengths never hang), and each worker decodes them all in worker order.
#include <numeric>

#include "gradcomp/exchange/exchange.hpp"

namespace gradcomp {

template <class T>
void Exchange::allgather(const Round& round, std::span<T> out, T weight) {
  check_round(round);
  const std::vector<std::uint64_t>& sizes = message_sizes(round);
  if (communicator_.size() > 1) {
    std::vector<std::uint64_t> rank_sizes(workers_.ranks, 0);
    for (std::size_t w = 0; w < workers_.total; ++w) rank_sizes[workers_.rank_of(w)] += sizes[w];
    pack_local(round);
    gathered_bytes_.resize(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
    communicator_.allgather_bytes(local_bytes_, rank_sizes, gathered_bytes_);
  }
  decode_all(round, sizes, out, weight);
  set_message_bits(sizes);
  allgather_traffic(traffic_.message_bits, traffic_);
}

template void Exchange::allgather(const Round&, std::span<float>, float);
template void Exchange::allgather(const Round&, std::span<double>, double);

}  // namespace gradcomp
