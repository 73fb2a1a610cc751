#include "gradcomp/exchange/traffic_totals.hpp"

#include <algorithm>
#include <cmath>

namespace gradcomp {

namespace {

// NaN and infinities are null in JSON (unknown, e.g. totals of a checkpoint older than them).
nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

// Bits a dense fp32 ring allreduce of d values moves per worker: the uncompressed reference.
double dense_bits(std::size_t d, std::size_t n) {
  return n <= 1 ? 0.0
                : 2.0 * static_cast<double>(n - 1) / static_cast<double>(n) * 32.0 *
                      static_cast<double>(d);
}

}  // namespace

TrafficTotals::TrafficTotals(NetworkModel network, std::size_t parameters, std::size_t workers)
    : network_(std::move(network)),
      parameters_(parameters),
      workers_(workers),
      dense_step_seconds_(network_.seconds(
          allreduce_traffic(std::vector<std::uint64_t>(workers_, 0), parameters_, 32))) {}

void TrafficTotals::add_step(std::span<const StepTraffic> exchanges, double seconds,
                             std::size_t hosted, std::size_t threads) {
  compute_seconds_ +=
      seconds * static_cast<double>(std::min(threads, hosted)) / static_cast<double>(hosted);
  step_seconds_ += seconds;
  const auto n = static_cast<double>(workers_);
  double up = 0;
  double down = 0;
  double message = 0;
  double network = 0;
  for (const StepTraffic& traffic : exchanges) {
    for (std::size_t i = 0; i < traffic.workers(); ++i) {
      up += static_cast<double>(traffic.sent_bits[i]) / n;
      down += static_cast<double>(traffic.received_bits[i]) / n;
      message += static_cast<double>(traffic.message_bits[i]) / n;
    }
    const NetworkCost cost = NetworkModel::cost(traffic);
    network += network_.seconds(cost);
    network_cost_ += cost;
  }
  last_up_ = up;
  last_down_ = down;
  bits_up_ += up;
  bits_down_ += down;
  message_bits_ += message;
  network_seconds_ += network;
  dense_bits_ += dense_bits(parameters_, workers_);
  dense_seconds_ += dense_step_seconds_;
}

void TrafficTotals::write_record(nlohmann::ordered_json& r) const {
  r["bits_up_step"] = last_up_;
  r["bits_down_step"] = last_down_;
  r["bits_up"] = bits_up_;
  r["bits_down"] = bits_down_;
  r["message_bits"] = message_bits_;
  r["dense_bits"] = dense_bits_;
  r["compute_seconds"] = compute_seconds_;
  r["step_seconds"] = step_seconds_;
  r["network_seconds"] = network_seconds_;
  r["simulated_seconds"] = compute_seconds_ + network_seconds_;
  r["network_messages"] = number(network_cost_.messages);
  r["network_critical_bits"] = number(network_cost_.bits);
}

void TrafficTotals::write_summary(nlohmann::ordered_json& s) const {
  s["bits_up_per_worker"] = bits_up_;
  s["dense_bits_per_worker"] = dense_bits_;
  s["compression_vs_dense"] = bits_up_ > 0 ? dense_bits_ / bits_up_ : 0.0;
  s["simulated_seconds"] = compute_seconds_ + network_seconds_;
  s["dense_simulated_seconds"] = compute_seconds_ + dense_seconds_;
}

nlohmann::ordered_json TrafficTotals::checkpoint(std::uint64_t step) const {
  return {{"step", step},
          {"bits_up", bits_up_},
          {"bits_down", bits_down_},
          {"last_up", last_up_},
          {"last_down", last_down_},
          {"message_bits", message_bits_},
          {"dense_bits", dense_bits_},
          {"compute_seconds", compute_seconds_},
          {"step_seconds", step_seconds_},
          {"network_seconds", network_seconds_},
          {"network_messages", network_cost_.messages},
          {"network_critical_bits", network_cost_.bits},
          {"dense_seconds", dense_seconds_}};
}

void TrafficTotals::restore(const nlohmann::ordered_json& saved) {
  bits_up_ = saved["bits_up"].get<double>();
  bits_down_ = saved["bits_down"].get<double>();
  last_up_ = saved["last_up"].get<double>();
  last_down_ = saved["last_down"].get<double>();
  message_bits_ = saved["message_bits"].get<double>();
  dense_bits_ = saved["dense_bits"].get<double>();
  compute_seconds_ = saved["compute_seconds"].get<double>();
  step_seconds_ = saved.value("step_seconds", 0.0);
  network_seconds_ = saved["network_seconds"].get<double>();
  // Checkpoints older than these totals: unknown (null in the metrics), not zero.
  network_cost_.messages = saved.value("network_messages", std::nan(""));
  network_cost_.bits = saved.value("network_critical_bits", std::nan(""));
  dense_seconds_ = saved["dense_seconds"].get<double>();
}

}  // namespace gradcomp
