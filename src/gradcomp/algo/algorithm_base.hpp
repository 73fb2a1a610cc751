#pragma once
// What every algorithm shares: the replicated model, the names of the state its derived class
// owns (for checkpoints and start()), the exchange with its traffic (and a relay server for the
// server pattern), and the diagnostics (docs/algorithms.md, "Diagnostics") computed from the
// buffers an algorithm names as its errors. The workers' compressors live in WorkerCompression.
#include <algorithm>
#include <memory>
#include <numeric>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/algo/servers.hpp"
#include "gradcomp/algo/worker_compression.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

// One d-vector per worker this process hosts (errors e_i, momenta m_i, shifts h_i).
template <class T>
using PerWorker = std::vector<std::vector<T>>;

template <class T>
class AlgorithmBase : public Algorithm<T> {
 public:
  AlgorithmBase(const AlgorithmSetup<T>& setup, std::string spec)
      : exchange_(setup.exchange),
        layout_(setup.layout),
        choice_(setup.choice),
        workers_(setup.exchange.workers()),
        d_(setup.layout.total_size()),
        spec_(std::move(spec)),
        x_(d_, T{0}) {}

  [[nodiscard]] const std::string& spec() const override { return spec_; }

  void start(std::span<const T> x0) override {
    require(x0.size() == d_, "{}: x_0 has {} elements, the model {}", spec_, x0.size(), d_);
    std::copy(x0.begin(), x0.end(), x_.begin());
    for (auto& family : worker_state_) {
      for (auto& buffer : *family.buffers) std::fill(buffer.begin(), buffer.end(), T{0});
    }
    for (auto& shared : shared_state_) std::fill(shared.data->begin(), shared.data->end(), T{0});
    total_error_local_ = 0;
    steps_ = 0;
    std::fill(measured_at_.begin(), measured_at_.end(), 0);
  }
  [[nodiscard]] std::span<const T> query_point(std::size_t) const override { return x_; }
  [[nodiscard]] std::span<const T> model() const override { return x_; }
  void evaluated_model(std::span<T> out) override { std::copy(x_.begin(), x_.end(), out.begin()); }
  [[nodiscard]] std::span<const StepTraffic> traffic() const override {
    return std::span<const StepTraffic>(traffic_).first(exchanges_);
  }

  std::vector<StateBuffer<T>> state() override {
    std::vector<StateBuffer<T>> all{{"x", std::span<T>(x_)}};
    for (auto& family : worker_state_) {
      for (std::size_t j = 0; j < family.buffers->size(); ++j) {
        all.push_back({family.prefix + "/" + std::to_string(workers_.first + j),
                       std::span<T>((*family.buffers)[j])});
      }
    }
    for (auto& shared : shared_state_) {
      if (!shared.server_only || exchange_.hosts_server()) {
        all.push_back({shared.name, std::span<T>(*shared.data)});
      }
    }
    return all;
  }

  Diagnostics diagnostics() override;

  [[nodiscard]] std::vector<double> totals() const override {
    return {total_error_local_, static_cast<double>(steps_)};
  }
  void restore_totals(std::span<const double> totals) override {
    require(totals.size() == 2, "{}: a checkpoint with {} running totals, expected 2", spec_,
            totals.size());
    total_error_local_ = totals[0];
    steps_ = static_cast<std::uint64_t>(totals[1]);
  }

 protected:
  // One d-vector per hosted worker, zeroed. The derived class owns it and names it with
  // name_state() if it is state.
  [[nodiscard]] PerWorker<T> per_worker_buffer() const {
    return PerWorker<T>(workers_.count, std::vector<T>(d_, T{0}));
  }
  // Names state the derived class owns, for state() (checkpoints, the identity tests) and for
  // start(), which zeroes it: "e" lists e/0, e/1, ... by global worker id; a replicated buffer
  // ("h"), or the server's ("server/e": listed on the server's rank only). The buffers must
  // outlive this object and keep their size (algorithms are neither copied nor moved).
  void name_state(std::string prefix, PerWorker<T>& buffers) {
    worker_state_.push_back({std::move(prefix), &buffers});
  }
  void name_state(std::string name, std::vector<T>& buffer) {
    shared_state_.push_back({std::move(name), &buffer, false});
  }
  void name_server_state(std::string name, std::vector<T>& buffer) {
    shared_state_.push_back({std::move(name), &buffer, true});
  }

  // out = weight·Σ decode over all workers (or the pattern's answer); records the traffic.
  // Under the server pattern an algorithm without a server of its own gets the relay: the server
  // averages and broadcasts the mean uncompressed ([Heterogeneous]'s parameter server).
  void exchange(Pattern pattern, const WorkerCompression<T>& sent, std::uint64_t step,
                std::span<T> out, T weight, ServerRole<T>* server = nullptr) {
    if (pattern == Pattern::kServer && server == nullptr) server = &relay();
    Round round{sent.codec(), layout_, sent.seed(), step, sent.messages()};
    if constexpr (std::is_same_v<T, float>) {
      round.float_decodes = sent.decodes();
      round.float_sparse_decodes = sent.sparse_decodes();
    } else {
      round.double_decodes = sent.decodes();
      round.double_sparse_decodes = sent.sparse_decodes();
    }
    exchange_.run<T>(pattern, round, server, out, weight);
    // Copied into the entry of an earlier step where there is one: its vectors' storage is
    // reused, and a step allocates nothing for its traffic.
    if (exchanges_ == traffic_.size()) traffic_.emplace_back();
    traffic_[exchanges_++] = exchange_.traffic();
  }
  void begin_step() { exchanges_ = 0; }
  // x ← x − update, writing only the cache lines of x the update changes (core/elementwise.hpp):
  // the same bits as the plain loop, and with a sparse update the workers on the other cores
  // find the rest of x still in their caches.
  void subtract_from_model(std::span<const T> update) {
    elementwise<T>().subtract_changed(x_.data(), update.data(), d_);
  }
  // Runs task(j) for every hosted worker j, on the exchange's threads (workers.threads). A task
  // may write worker j's own state and buffers only, and read what is shared.
  template <class Task>
  void for_each_worker(const Task& task) {
    exchange_.pool().run(workers_.count, task);
  }
  // Marks the end of a step for the diagnostics: the error buffers' norms join the total error,
  // and the primary messages are remembered for the density.
  void end_step(const WorkerCompression<T>& sent, std::uint64_t step) {
    if (errors_ != nullptr) {
      // Each worker's ‖e_i‖² on the pool (unless error_is_final took it), then summed in worker
      // order.
      const std::uint64_t now = steps_ + 1;
      if (std::any_of(measured_at_.begin(), measured_at_.end(),
                      [now](std::uint64_t at) { return at != now; })) {
        for_each_worker([&](std::size_t j) {
          if (measured_at_[j] != now) error_norms_[j] = squared_norm((*errors_)[j]);
        });
      }
      for (const double norm : error_norms_) total_error_local_ += norm;
    }
    density_source_ = &sent;
    density_step_ = step;
    ++steps_;
  }
  // The buffers the diagnostics treat as the workers' errors, and the κ of the DEF distance.
  void use_errors(PerWorker<T>* errors, double kappa = 0) {
    errors_ = errors;
    kappa_ = kappa;
    error_norms_.assign(errors->size(), 0.0);
    measured_at_.assign(errors->size(), 0);
  }
  // Called in worker j's task once its error is final for the step, with ‖e_j‖² (as
  // send_keeping_error returns it): end_step needs no pass and no round of its own for it.
  void error_is_final(std::size_t j, double squared_error_norm) {
    error_norms_[j] = squared_error_norm;
    measured_at_[j] = steps_ + 1;
  }
  // Whether error_is_final has taken worker j's ‖e_j‖² in this step.
  [[nodiscard]] bool error_is_measured(std::size_t j) const {
    return measured_at_[j] == steps_ + 1;
  }
  void use_server_error(const std::vector<T>* server_error) { server_error_ = server_error; }
  [[nodiscard]] T mean_weight() const { return T{1} / static_cast<T>(workers_.total); }

  // In double, with 32 partial sums in a fixed order (core/elementwise.hpp): vector code (one
  // serial sum runs at the add's latency, 20 µs for d = 5,000), and the same bits on every machine.
  static double squared_norm(std::span<const T> v) {
    return elementwise<T>().squared_norm(v.data(), v.size());
  }

  Exchange& exchange_;
  const Layout& layout_;
  AlgorithmChoice choice_;
  WorkerGroup workers_;
  std::size_t d_;
  std::string spec_;
  std::vector<T> x_;

 private:
  struct NamedWorkerState {
    std::string prefix;
    PerWorker<T>* buffers;
  };
  struct NamedSharedState {
    std::string name;
    std::vector<T>* data;
    bool server_only = false;
  };
  [[nodiscard]] double local_density();
  RelayServer<T>& relay() {
    if (!relay_) relay_ = std::make_unique<RelayServer<T>>(layout_);
    return *relay_;
  }

  std::vector<NamedWorkerState> worker_state_;
  std::vector<NamedSharedState> shared_state_;
  std::unique_ptr<RelayServer<T>> relay_;

  std::vector<StepTraffic> traffic_;  // the first exchanges_ are the last step's
  std::size_t exchanges_ = 0;
  PerWorker<T>* errors_ = nullptr;
  std::vector<double> error_norms_;         // ‖e_j‖² of the last step, per hosted worker
  std::vector<std::uint64_t> measured_at_;  // steps_ + 1 where error_is_final took ‖e_j‖²
  double kappa_ = 0;
  const std::vector<T>* server_error_ = nullptr;
  const WorkerCompression<T>* density_source_ = nullptr;  // the primary messages of the last step
  std::uint64_t density_step_ = 0;
  double total_error_local_ = 0;
  std::uint64_t steps_ = 0;
};

template <class T>
double AlgorithmBase<T>::local_density() {
  if (density_source_ == nullptr || d_ == 0) return 0;
  std::vector<T> decoded(d_);
  double kept = 0;
  const std::vector<Message>& messages = density_source_->messages();
  for (std::size_t j = 0; j < messages.size(); ++j) {
    density_source_->codec().decode(
        messages[j], layout_, density_source_->context_of(density_step_, j), std::span<T>(decoded));
    kept += static_cast<double>(
        std::count_if(decoded.begin(), decoded.end(), [](T v) { return v != T{0}; }));
  }
  return kept / static_cast<double>(d_);
}

// One allreduce of [Σ_j e_j (d values), Σ_j‖e_j‖², density, total error, ‖ẽ‖²]; then
// docs/algorithms.md §4.4: Var = (1/n)Σ‖e_i‖² − ‖ē‖², κ* = ‖ē‖²/(‖ē‖² + Var) and (1/n)Σ‖ē − κe_i‖²
// = (‖ē‖² + Var)κ² − 2‖ē‖²κ + ‖ē‖².
template <class T>
Diagnostics AlgorithmBase<T>::diagnostics() {
  const bool has_errors = errors_ != nullptr;
  std::vector<double> sums(has_errors ? d_ + 4 : 4, 0.0);
  if (has_errors) {
    for (const auto& e : *errors_) {
      for (std::size_t i = 0; i < d_; ++i) sums[i] += static_cast<double>(e[i]);
      sums[d_] += squared_norm(e);
    }
  }
  double* tail = sums.data() + sums.size() - 3;
  tail[0] = local_density();
  tail[1] = total_error_local_;
  tail[2] = server_error_ != nullptr && exchange_.hosts_server() ? squared_norm(*server_error_) : 0;
  exchange_.communicator().allreduce_sum(std::span<double>(sums));

  const double n = static_cast<double>(workers_.total);
  Diagnostics result;
  if (density_source_ != nullptr) result.density = tail[0] / n;
  if (server_error_ != nullptr) result.server_error_norm2 = tail[2];
  if (!has_errors) return result;
  double mean_norm2 = 0;
  for (std::size_t i = 0; i < d_; ++i) mean_norm2 += (sums[i] / n) * (sums[i] / n);
  const double mean_error_norm2 = sums[d_] / n;  // = ‖ē‖² + Var
  result.mean_error_norm2 = mean_error_norm2;
  result.error_of_mean_norm2 = mean_norm2;
  result.kappa = kappa_;
  result.kappa_star = mean_error_norm2 > 0 ? mean_norm2 / mean_error_norm2 : 0;
  result.def_distance = mean_error_norm2 * kappa_ * kappa_ - 2 * mean_norm2 * kappa_ + mean_norm2;
  result.total_error = tail[1] / n;
  return result;
}

}  // namespace gradcomp
