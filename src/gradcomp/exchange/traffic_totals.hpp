#pragma once
// What a training run has sent and how long it took, step by step (docs/outputs.md): bits up and
// down per worker (from the exchanges' traffic), the dense fp32 allreduce the run is compared
// with, the measured compute and step time, and the network model's seconds for the traffic
// sent and for the dense reference. The trainer accounts every step here, writes the totals into
// each metrics record and the summary, and keeps them in its checkpoint (trainer.json).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/exchange/traffic.hpp"

namespace gradcomp {

class TrafficTotals {
 public:
  TrafficTotals(NetworkModel network, std::size_t parameters, std::size_t workers);

  // One step: its exchanges (two for ef-bc and ec-sgd-diana), and the seconds it took on this
  // process for its `hosted` workers on `threads` threads (they share the threads here and run in
  // parallel in a deployment, so compute time counts per worker: seconds · threads / hosted, an
  // upper bound where the threads were not all busy).
  void add_step(std::span<const StepTraffic> exchanges, double seconds, std::size_t hosted,
                std::size_t threads = 1);

  // The metrics record's fields (bits_up_step, ..., network_critical_bits).
  void write_record(nlohmann::ordered_json& record) const;
  // The summary's fields (bits_up_per_worker, ..., dense_simulated_seconds).
  void write_summary(nlohmann::ordered_json& summary) const;
  // trainer.json of a checkpoint at `step`, and back.
  [[nodiscard]] nlohmann::ordered_json checkpoint(std::uint64_t step) const;
  void restore(const nlohmann::ordered_json& saved);

  [[nodiscard]] const NetworkModel& network() const { return network_; }
  [[nodiscard]] double bits_up() const { return bits_up_; }
  [[nodiscard]] double simulated_seconds() const { return compute_seconds_ + network_seconds_; }

 private:
  NetworkModel network_;
  std::size_t parameters_;
  std::size_t workers_;
  double compute_seconds_ = 0;
  double step_seconds_ = 0;  // real time in steps on this process (real communication under mpi)
  double network_seconds_ = 0;
  NetworkCost network_cost_;  // the model's totals, for the clock on other networks
  double dense_seconds_ = 0;
  double dense_step_seconds_ = 0;  // the network model's time of one dense step
  double bits_up_ = 0;
  double bits_down_ = 0;
  double last_up_ = 0;
  double last_down_ = 0;
  double message_bits_ = 0;
  double dense_bits_ = 0;
};

}  // namespace gradcomp
