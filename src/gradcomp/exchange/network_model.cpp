#include "gradcomp/exchange/network_model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

constexpr const char* kSpecHelp =
    "use none, or a bandwidth such as 100Mbit, 1Gbit, 10Gbit or 2.5Gbit, optionally followed by "
    ":latency_us=<microseconds>";

double parse_number(std::string_view text, const std::string& spec) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  require(
      error == std::errc() && end == text.data() + text.size() && std::isfinite(value) && value > 0,
      "network '{}': '{}' is not a positive number; {}", spec, text, kSpecHelp);
  return value;
}

double parse_bandwidth(std::string_view text, const std::string& spec) {
  const auto ends_with = [&](std::string_view unit) {
    return text.size() > unit.size() && text.substr(text.size() - unit.size()) == unit;
  };
  if (ends_with("Gbit")) return 1e9 * parse_number(text.substr(0, text.size() - 4), spec);
  if (ends_with("Mbit")) return 1e6 * parse_number(text.substr(0, text.size() - 4), spec);
  throw InvalidInput(
      fmt::format("network '{}': unknown bandwidth '{}'; {}", spec, text, kSpecHelp));
}

double default_latency(double bits_per_second) {
  if (bits_per_second < 1e9) return 100e-6;
  if (bits_per_second <= 1e9) return 50e-6;
  if (bits_per_second <= 1e10) return 20e-6;
  return 10e-6;
}

std::uint64_t largest(const std::vector<std::uint64_t>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

}  // namespace

NetworkModel NetworkModel::parse(const std::string& spec) {
  if (spec == "none") return {};
  const std::size_t colon = spec.find(':');
  NetworkModel model;
  model.name = spec;
  model.bits_per_second = parse_bandwidth(std::string_view(spec).substr(0, colon), spec);
  model.latency_seconds = default_latency(model.bits_per_second);
  if (colon != std::string::npos) {
    const std::string_view option = std::string_view(spec).substr(colon + 1);
    constexpr std::string_view kKey = "latency_us=";
    require(option.substr(0, kKey.size()) == kKey, "network '{}': unknown option '{}'; {}", spec,
            option, kSpecHelp);
    model.latency_seconds = 1e-6 * parse_number(option.substr(kKey.size()), spec);
  }
  return model;
}

NetworkCost NetworkModel::cost(const StepTraffic& traffic) {
  const std::size_t n = traffic.workers();
  const auto bits = [](std::uint64_t b) { return static_cast<double>(b); };
  const double ring_messages = n <= 1 ? 0.0 : 2.0 * static_cast<double>(n - 1);
  switch (traffic.pattern) {
    case Pattern::kAllreduce:
      if (n <= 1) return {};
      return {ring_messages, bits(largest(traffic.sent_bits))};
    case Pattern::kAllgather:
      if (n <= 1) return {};
      return {ring_messages, bits(largest(traffic.received_bits))};
    case Pattern::kServer:
      // The server runs on worker 0's host (rank 0 under mpi): worker 0's message and its copy
      // of the answer cross no link.
      if (n == 0) return {};
      return {2.0, bits(traffic.server_received_bits - traffic.message_bits[0]) +
                       bits(traffic.server_sent_bits - traffic.answer_bits)};
    case Pattern::kMajorityVote:
      return {2.0, bits(traffic.server_received_bits) + bits(traffic.server_sent_bits)};
  }
  return {};
}

double NetworkModel::seconds(const NetworkCost& cost) const {
  if (bits_per_second == 0) return 0;
  return latency_seconds * cost.messages + cost.bits / bits_per_second;
}

}  // namespace gradcomp
