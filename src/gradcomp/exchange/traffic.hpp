#pragma once
// What one exchange step moves, per worker, as a real deployment would move it under the pattern
// (docs/exchange.md §2.4), counted from the messages' bytes:
//   allreduce  the ring of comm/ring.hpp over the payload values only (no header, no indices):
//              each worker sends and receives about 2(n−1)/n of the payload;
//   allgather  a ring allgather: worker i receives every other message, Σ_{j≠i} b_j, and sends
//              every message except its right neighbour's (it forwards the others);
//   server     worker i sends b_i and receives the server's answer; the server's link carries the
//              n messages in and n copies of its answer out;
//   vote       as server, the answer being the d sign bits of the vote (signSGD-MV).
// The model assumes one worker per link; under `mpi` with several workers per rank the transport
// moves less, since a rank combines its own workers first (comm counters show what it moved).
#include <cstdint>
#include <span>
#include <vector>

#include "gradcomp/exchange/pattern.hpp"

namespace gradcomp {

struct StepTraffic {
  Pattern pattern = Pattern::kAllgather;
  std::vector<std::uint64_t> message_bits;   // per worker: its message as encoded, header included
  std::vector<std::uint64_t> sent_bits;      // per worker: onto its link
  std::vector<std::uint64_t> received_bits;  // per worker: off its link
  std::uint64_t server_received_bits = 0;    // server and vote: the server's link
  std::uint64_t server_sent_bits = 0;
  std::uint64_t answer_bits = 0;  // server and vote: the message every worker receives

  [[nodiscard]] std::size_t workers() const { return message_bits.size(); }
};

// Each writes `traffic` over, reusing its vectors' storage (the exchange does so every step, with
// no allocation); message_bits may be traffic.message_bits itself.
// payload_elements values of value_bits each, summed by a ring over the workers.
void allreduce_traffic(std::span<const std::uint64_t> message_bits, std::size_t payload_elements,
                       unsigned value_bits, StepTraffic& traffic);
void allgather_traffic(std::span<const std::uint64_t> message_bits, StepTraffic& traffic);
// pattern is kServer or kMajorityVote.
void server_traffic(Pattern pattern, std::span<const std::uint64_t> message_bits,
                    std::uint64_t answer_bits, StepTraffic& traffic);

// The same, as a new StepTraffic.
inline StepTraffic allreduce_traffic(std::span<const std::uint64_t> message_bits,
                                     std::size_t payload_elements, unsigned value_bits) {
  StepTraffic traffic;
  allreduce_traffic(message_bits, payload_elements, value_bits, traffic);
  return traffic;
}
inline StepTraffic allgather_traffic(std::span<const std::uint64_t> message_bits) {
  StepTraffic traffic;
  allgather_traffic(message_bits, traffic);
  return traffic;
}
inline StepTraffic server_traffic(Pattern pattern, std::span<const std::uint64_t> message_bits,
                                  std::uint64_t answer_bits) {
  StepTraffic traffic;
  server_traffic(pattern, message_bits, answer_bits, traffic);
  return traffic;
}

}  // namespace gradcomp
