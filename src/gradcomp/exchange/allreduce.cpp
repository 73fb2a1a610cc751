// The allreduce pattern (docs/exchange.md §2.4): compressors whose message body is a linear payload
// (identity, fp16, rbgs, shared-seed randk, sketch) send only their values, never indices; the
// payloads are summed (a rank's own workers in worker order, then the communicator's allreduce
// across ranks) and the sum is decoded once.
//
// Sums run in the receiver's precision T: an fp16 payload's rounding is each worker's own, the
// partial sums are not rounded to fp16 again (a half-precision ring would make the result depend
// on the layout). The traffic model counts the payload at its wire width (16 bits for fp16); the
// transport carries T, so for fp16 it moves twice the modelled bytes (docs/exchange.md).
#include "gradcomp/exchange/exchange.hpp"
#include "gradcomp/exchange/sender_errors.hpp"

namespace gradcomp {

template <class T>
void Exchange::allreduce(const Round& round, std::span<T> out, T weight) {
  check_round(round);
  const std::optional<std::size_t> payload = round.codec.payload_size(round.layout);
  require(payload.has_value(),
          "the allreduce pattern needs a compressor whose messages are a linear payload "
          "(identity, fp16, rbgs, randk:shared=true, sketch); {} sends indices or scales, "
          "exchange it by allgather",
          round.codec.spec());
  std::vector<T>& sum = payload_sums_.of<T>();
  sum.assign(2 * *payload, T{0});
  const std::span<T> total = std::span(sum).first(*payload);
  const std::span<T> one = std::span(sum).last(*payload);
  for (std::size_t j = 0; j < workers_.count; ++j) {
    const std::size_t w = workers_.first + j;
    decode_from(workers_, w, [&] {
      round.codec.read_payload(round.messages[j].bytes, round.layout, context_of(round, w), one);
    });
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += one[i];
  }
  communicator_.allreduce_sum(total);
  std::fill(out.begin(), out.end(), T{0});
  round.codec.decode_payload_add(std::span<const T>(total), round.layout, context_of(round, 0), out,
                                 weight);

  // Every worker's message has the same size: the payload length depends on the layout only.
  const Message& first = round.messages.front();
  traffic_.message_bits.assign(workers_.total, first.bits());
  const unsigned value_bits = 8 * value_bytes(MessageHeader::parse(first.bytes).values);
  allreduce_traffic(traffic_.message_bits, *payload, value_bits, traffic_);
}

template void Exchange::allreduce(const Round&, std::span<float>, float);
template void Exchange::allreduce(const Round&, std::span<double>, double);

}  // namespace gradcomp
