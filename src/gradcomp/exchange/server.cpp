// The two-way parameter-server pattern (docs/algorithms.md §3.8–3.10, §2.4): the workers' messages
// reach the server (hosted by rank 0), which decodes and sums them in worker order, lets the
// algorithm's ServerRole turn the aggregate into its answer (applying server-side error feedback
// and compressing), and pushes the answer back to every worker.
#include <algorithm>
#include <numeric>

#include "gradcomp/exchange/exchange.hpp"

namespace gradcomp {

template <class T>
void Exchange::server(const Round& round, ServerRole<T>& role, std::span<T> out, T weight) {
  check_round(round);
  const std::vector<std::uint64_t>& sizes = message_sizes(round);
  if (communicator_.size() > 1) {
    std::vector<std::uint64_t> rank_sizes(workers_.ranks, 0);
    for (std::size_t w = 0; w < workers_.total; ++w) rank_sizes[workers_.rank_of(w)] += sizes[w];
    pack_local(round);
    gathered_bytes_.resize(
        hosts_server() ? std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}) : 0);
    communicator_.gather_bytes(local_bytes_, rank_sizes, gathered_bytes_, kServerRank);
  }
  const StepContext server_context{round.seed, round.step, kServerWorker};
  if (hosts_server()) {
    // The aggregate is built in `out`, which the answer overwrites below.
    decode_all(round, sizes, out, weight);
    const Message& answer = role.answer(std::span<const T>(out), server_context);
    answer_bytes_.assign(answer.bytes.begin(), answer.bytes.end());
  }
  communicator_.broadcast(answer_bytes_, kServerRank);
  // An empty answer: the server only collected (ef-bc's shift messages); nothing comes back. On
  // the server's rank, its own decode of its answer where it made one (the same bits as decoding
  // the answer into zeros) is copied instead of zeroing and decoding, which every worker waited
  // for.
  const std::span<const T> own = hosts_server() ? role.answer_decode() : std::span<const T>{};
  if (answer_bytes_.empty()) {
    std::fill(out.begin(), out.end(), T{0});
  } else if (own.size() == out.size()) {
    std::copy(own.begin(), own.end(), out.begin());
  } else {
    std::fill(out.begin(), out.end(), T{0});
    try {
      role.answer_codec().decode_add(std::span<const std::uint8_t>(answer_bytes_), round.layout,
                                     server_context, out, T{1});
    } catch (const DecodeError& e) {
      throw DecodeError(
          fmt::format("the server's answer (rank {}) does not decode: {}", kServerRank, e.what()));
    }
  }
  set_message_bits(sizes);
  server_traffic(Pattern::kServer, traffic_.message_bits, 8 * answer_bytes_.size(), traffic_);
}

template void Exchange::server(const Round&, ServerRole<float>&, std::span<float>, float);
template void Exchange::server(const Round&, ServerRole<double>&, std::span<double>, double);

}  // namespace gradcomp
