#pragma once
// What every algorithm shares: the replicated model, per-worker buffers with names, one
// compressor instance per hosted worker, the exchange with its traffic, and the diagnostics
// (ALGORITHMS.md §4.4) computed from the buffers an algorithm registers as its errors.
#include <algorithm>
#include <deque>
#include <memory>
#include <numeric>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

template <class T>
class AlgorithmBase : public Algorithm<T> {
 public:
  AlgorithmBase(const AlgorithmSetup<T>& setup, std::string spec)
      : exchange_(setup.exchange),
        layout_(setup.layout),
        seed_(setup.seed),
        choice_(setup.choice),
        workers_(setup.exchange.workers()),
        d_(setup.layout.total_size()),
        spec_(std::move(spec)),
        x_(d_, T{0}) {}

  [[nodiscard]] const std::string& spec() const override { return spec_; }

  void start(std::span<const T> x0) override {
    require(x0.size() == d_, "{}: x_0 has {} elements, the model {}", spec_, x0.size(), d_);
    std::copy(x0.begin(), x0.end(), x_.begin());
    for (auto& family : worker_buffers_) {
      for (auto& buffer : family.buffers) std::fill(buffer.begin(), buffer.end(), T{0});
    }
    for (auto& shared : shared_buffers_) std::fill(shared.data.begin(), shared.data.end(), T{0});
    total_error_local_ = 0;
    steps_ = 0;
  }
  [[nodiscard]] std::span<const T> query_point(std::size_t) const override { return x_; }
  [[nodiscard]] std::span<const T> model() const override { return x_; }
  void evaluated_model(std::span<T> out) override { std::copy(x_.begin(), x_.end(), out.begin()); }
  [[nodiscard]] const std::vector<StepTraffic>& traffic() const override { return traffic_; }

  std::vector<StateBuffer<T>> state() override {
    std::vector<StateBuffer<T>> all{{"x", std::span<T>(x_)}};
    for (auto& family : worker_buffers_) {
      for (std::size_t j = 0; j < family.buffers.size(); ++j) {
        all.push_back({family.prefix + "/" + std::to_string(workers_.first + j),
                       std::span<T>(family.buffers[j])});
      }
    }
    for (auto& shared : shared_buffers_) {
      if (!shared.server_only || exchange_.hosts_server()) {
        all.push_back({shared.name, std::span<T>(shared.data)});
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
  // A named buffer per hosted worker ("e" gives e/0, e/1, ...), zeroed by start().
  std::vector<std::vector<T>>& worker_buffers(const std::string& prefix) {
    worker_buffers_.push_back(
        {prefix, std::vector<std::vector<T>>(workers_.count, std::vector<T>(d_, T{0}))});
    return worker_buffers_.back().buffers;
  }
  // A named replicated buffer ("h"), or the server's ("server/e": state() lists it on the server's
  // rank only).
  std::vector<T>& shared_buffer(const std::string& name, bool server_only = false) {
    shared_buffers_.push_back({name, std::vector<T>(d_, T{0}), server_only});
    return shared_buffers_.back().data;
  }
  // One compressor instance per hosted worker (stateful compressors keep per-worker state).
  static std::vector<std::unique_ptr<Compressor>> per_worker(const std::string& spec,
                                                             std::size_t count) {
    std::vector<std::unique_ptr<Compressor>> all;
    for (std::size_t j = 0; j < count; ++j) all.push_back(make_compressor(spec));
    return all;
  }

  [[nodiscard]] StepContext context(std::uint64_t step, std::size_t local_worker) const {
    return {seed_, step, static_cast<std::uint32_t>(workers_.first + local_worker)};
  }
  // out = decode(message) of local worker j's own message.
  void decode_own(const Compressor& codec, const Message& message, std::uint64_t step,
                  std::size_t j, std::span<T> out) const {
    codec.decode(message, layout_, context(step, j), out);
  }
  // out = weight·Σ decode over all workers (or the pattern's answer); records the traffic.
  void exchange(Pattern pattern, const Compressor& codec, const std::vector<Message>& messages,
                std::uint64_t step, std::span<T> out, T weight, ServerRole<T>* server = nullptr) {
    exchange_.run<T>(pattern, {codec, layout_, seed_, step, messages}, server, out, weight);
    traffic_.push_back(exchange_.traffic());
  }
  void begin_step() { traffic_.clear(); }
  // Marks the end of a step for the diagnostics: the error buffers' norms join the total error,
  // and the primary messages are remembered for the density.
  void end_step(const Compressor* codec, const std::vector<Message>* messages, std::uint64_t step) {
    if (errors_ != nullptr) {
      for (const auto& e : *errors_) total_error_local_ += squared_norm(e);
    }
    density_codec_ = codec;
    density_messages_ = messages;
    density_step_ = step;
    ++steps_;
  }
  // The buffers the diagnostics treat as the workers' errors, and the κ of the DEF distance.
  void use_errors(std::vector<std::vector<T>>* errors, double kappa = 0) {
    errors_ = errors;
    kappa_ = kappa;
  }
  void use_server_error(const std::vector<T>* server_error) { server_error_ = server_error; }
  [[nodiscard]] T mean_weight() const { return T{1} / static_cast<T>(workers_.total); }

  static double squared_norm(std::span<const T> v) {
    double sum = 0;
    for (const T value : v) sum += static_cast<double>(value) * static_cast<double>(value);
    return sum;
  }

  Exchange& exchange_;
  const Layout& layout_;
  std::uint64_t seed_;
  AlgorithmChoice choice_;
  WorkerGroup workers_;
  std::size_t d_;
  std::string spec_;
  std::vector<T> x_;

 private:
  struct WorkerFamily {
    std::string prefix;
    std::vector<std::vector<T>> buffers;
  };
  struct SharedBuffer {
    std::string name;
    std::vector<T> data;
    bool server_only = false;
  };
  [[nodiscard]] double local_density();

  // Deques: derived classes keep references to these elements, which push_back never moves.
  std::deque<WorkerFamily> worker_buffers_;
  std::deque<SharedBuffer> shared_buffers_;

  std::vector<StepTraffic> traffic_;
  std::vector<std::vector<T>>* errors_ = nullptr;
  double kappa_ = 0;
  const std::vector<T>* server_error_ = nullptr;
  const Compressor* density_codec_ = nullptr;
  const std::vector<Message>* density_messages_ = nullptr;
  std::uint64_t density_step_ = 0;
  double total_error_local_ = 0;
  std::uint64_t steps_ = 0;
};

template <class T>
double AlgorithmBase<T>::local_density() {
  if (density_codec_ == nullptr || density_messages_ == nullptr || d_ == 0) return 0;
  std::vector<T> decoded(d_);
  double kept = 0;
  for (std::size_t j = 0; j < density_messages_->size(); ++j) {
    decode_own(*density_codec_, (*density_messages_)[j], density_step_, j, decoded);
    kept += static_cast<double>(
        std::count_if(decoded.begin(), decoded.end(), [](T v) { return v != T{0}; }));
  }
  return kept / static_cast<double>(d_);
}

// One allreduce of [Σ_j e_j (d values), Σ_j‖e_j‖², density, total error, ‖ẽ‖²]; then ALGORITHMS.md
// §4.4: Var = (1/n)Σ‖e_i‖² − ‖ē‖², κ* = ‖ē‖²/(‖ē‖² + Var) and
// (1/n)Σ‖ē − κe_i‖² = (‖ē‖² + Var)κ² − 2‖ē‖²κ + ‖ē‖².
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
  if (density_codec_ != nullptr) result.density = tail[0] / n;
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
