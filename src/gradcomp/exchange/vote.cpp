// The majority-vote pattern of signSGD-MV (docs/compressors.md §2.3.10, §3.11): every worker's
// signs are gathered and every worker counts the votes itself, in worker order, so the result is
// exact and the same on every layout. sign(0) = +1 for an even number of workers.
//
// The traffic reported is the parameter server's of the papers (d sign bits up per worker, the
// d sign bits of the vote down), which is what a deployment with a server moves; the transport
// here is an allgather, which needs no server round trip.
#include "gradcomp/exchange/exchange.hpp"

namespace gradcomp {

template <class T>
void Exchange::majority_vote(const Round& round, std::span<T> out) {
  allgather(round, out, T{1});
  for (T& value : out) value = value >= T{0} ? T{1} : T{-1};
  const std::uint64_t sign_bits = 8 * (MessageHeader::kBytes + (out.size() + 7) / 8);
  server_traffic(Pattern::kMajorityVote, traffic_.message_bits, sign_bits, traffic_);
}

template void Exchange::majority_vote(const Round&, std::span<float>);
template void Exchange::majority_vote(const Round&, std::span<double>);

}  // namespace gradcomp
