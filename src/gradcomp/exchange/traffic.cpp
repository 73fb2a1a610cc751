#include "gradcomp/exchange/traffic.hpp"

#include <numeric>

#include "gradcomp/comm/ring.hpp"

namespace gradcomp {

namespace {

void start(Pattern pattern, std::span<const std::uint64_t> message_bits, StepTraffic& traffic) {
  traffic.pattern = pattern;
  if (message_bits.data() != traffic.message_bits.data()) {
    traffic.message_bits.assign(message_bits.begin(), message_bits.end());
  }
  traffic.sent_bits.assign(message_bits.size(), 0);
  traffic.received_bits.assign(message_bits.size(), 0);
  traffic.server_received_bits = 0;
  traffic.server_sent_bits = 0;
  traffic.answer_bits = 0;
}

}  // namespace

void allreduce_traffic(std::span<const std::uint64_t> message_bits, std::size_t payload_elements,
                       unsigned value_bits, StepTraffic& traffic) {
  start(Pattern::kAllreduce, message_bits, traffic);
  const std::size_t n = message_bits.size();
  for (std::size_t i = 0; i < n; ++i) {
    traffic.sent_bits[i] = std::uint64_t{value_bits} * ring::elements_sent(payload_elements, n, i);
    traffic.received_bits[i] =
        std::uint64_t{value_bits} * ring::elements_received(payload_elements, n, i);
  }
}

void allgather_traffic(std::span<const std::uint64_t> message_bits, StepTraffic& traffic) {
  start(Pattern::kAllgather, message_bits, traffic);
  const std::size_t n = message_bits.size();
  const std::uint64_t total =
      std::accumulate(message_bits.begin(), message_bits.end(), std::uint64_t{0});
  for (std::size_t i = 0; i < n && n > 1; ++i) {
    traffic.received_bits[i] = total - message_bits[i];
    traffic.sent_bits[i] = total - message_bits[(i + 1) % n];
  }
}

void server_traffic(Pattern pattern, std::span<const std::uint64_t> message_bits,
                    std::uint64_t answer_bits, StepTraffic& traffic) {
  start(pattern, message_bits, traffic);
  traffic.answer_bits = answer_bits;
  for (std::size_t i = 0; i < message_bits.size(); ++i) {
    traffic.sent_bits[i] = message_bits[i];
    traffic.received_bits[i] = answer_bits;
    traffic.server_received_bits += message_bits[i];
    traffic.server_sent_bits += answer_bits;
  }
}

}  // namespace gradcomp
