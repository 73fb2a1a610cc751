#include "gradcomp/exchange/exchange.hpp"

#include <algorithm>
#include <cstring>

#include "gradcomp/core/error.hpp"
#include "gradcomp/exchange/sender_errors.hpp"

namespace gradcomp {

Exchange::Exchange(Communicator& communicator, WorkerGroup workers)
    : communicator_(communicator), workers_(workers) {
  require<InternalError>(workers.ranks == communicator.size(),
                         "worker group made for {} ranks, the communicator has {}", workers.ranks,
                         communicator.size());
}

void Exchange::check_round(const Round& round) const {
  require(round.messages.size() == workers_.count,
          "exchange: {} messages given, but this rank hosts {} workers", round.messages.size(),
          workers_.count);
}

std::vector<std::uint64_t> Exchange::message_sizes(const Round& round) {
  std::vector<std::uint64_t> mine;
  for (const Message& m : round.messages) mine.push_back(m.bytes.size());
  return communicator_.allgather_fixed(mine);
}

void Exchange::pack_local(const Round& round) {
  local_bytes_.clear();
  for (const Message& m : round.messages) {
    local_bytes_.insert(local_bytes_.end(), m.bytes.begin(), m.bytes.end());
  }
}

template <class T>
void Exchange::decode_all(const Round& round, std::span<const std::uint64_t> sizes,
                          std::span<T> out, T weight) {
  std::fill(out.begin(), out.end(), T{0});
  // One process: the messages are already here, no packing or copying.
  const bool local = communicator_.size() == 1;
  std::size_t offset = 0;
  for (std::size_t w = 0; w < workers_.total; ++w) {
    const std::span<const std::uint8_t> bytes =
        local ? std::span<const std::uint8_t>(round.messages[w].bytes)
              : std::span<const std::uint8_t>(gathered_bytes_).subspan(offset, sizes[w]);
    decode_from(workers_, w, [&] {
      round.codec.decode_add(bytes, round.layout, context_of(round, w), out, weight);
    });
    offset += sizes[w];
  }
}

template <class T>
void Exchange::run(Pattern pattern, const Round& round, ServerRole<T>* role, std::span<T> out,
                   T weight) {
  switch (pattern) {
    case Pattern::kAllreduce:
      allreduce(round, out, weight);
      return;
    case Pattern::kAllgather:
      allgather(round, out, weight);
      return;
    case Pattern::kMajorityVote:
      majority_vote(round, out);
      return;
    case Pattern::kServer:
      require<InternalError>(role != nullptr, "the server pattern needs a server role");
      server(round, *role, out, weight);
      return;
  }
}

template void Exchange::decode_all(const Round&, std::span<const std::uint64_t>, std::span<float>,
                                   float);
template void Exchange::decode_all(const Round&, std::span<const std::uint64_t>, std::span<double>,
                                   double);
template void Exchange::run(Pattern, const Round&, ServerRole<float>*, std::span<float>, float);
template void Exchange::run(Pattern, const Round&, ServerRole<double>*, std::span<double>, double);

}  // namespace gradcomp
