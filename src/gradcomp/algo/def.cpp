// DEF, DEF-A, SAEF and PSync (docs/algorithms.md §3.6–3.7, [DEF] Alg 1 and eq. 11), error in
// parameter units, with the fixes of the authors' code (§3.6 i–ii):
//   z_i = x − κ e_i                                  (the detached point; no communication)
//   g_i = ∇f(z_i; ξ),  m_i ← μ m_i + (g_i + β_wd z_i) (weight decay at the detached point)
//   p_i = γ_t m_i + e_i   (μ = 0: p_i = γ_t(g_i + β_wd z_i) + e_i; e is not rescaled when γ decays)
//   e_i ← p_i − C_t(p_i),  x ← x − (1/n)Σ_i C_t(p_i)  (allreduce of the RBGS payloads)
// They differ in κ and in the evaluated model (§3.19):
//   def    κ (default 0.3), y = x − ē (an uncompressed allreduce of the errors)
//   def-a  κ (default 0.3), x
//   saef   κ = 1, x
//   psync  κ = 1, worker 0's local model x − e_0 ([DEF]'s PSync = CSER with C₁ ≡ 0, §3.7)
// def-a with κ = 0 is [DEF]'s EF baseline (gradient at x, output x).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

enum class DefOutput { kVirtual, kSynchronized, kWorkerZero };
enum class Kappa { kParameter, kOne };  // def, def-a: the kappa parameter; saef, psync: 1

template <class T>
class Def final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Def(const AlgorithmSetup<T>& setup, const Params& p, DefOutput output, Kappa kappa)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(resolve_pattern(p.choice("pattern"), sent_.codec())),
        output_(output),
        kappa_(kappa == Kappa::kOne ? T{1} : static_cast<T>(p.real("kappa"))),
        mu_(static_cast<T>(p.real("momentum"))),
        wd_(static_cast<T>(p.real("wd"))),
        errors_(Base::per_worker_buffer()),
        points_(Base::per_worker_buffer()),
        stale_(points_.size(), 0),
        aggregate_(Base::d_) {
    Base::name_state("e", errors_);
    Base::use_errors(&errors_, static_cast<double>(kappa_));
    // μ = 0: m_i = g_i + β_wd z_i is used once, never kept.
    if (mu_ != T{0}) {
      momenta_ = Base::per_worker_buffer();
      Base::name_state("m", momenta_);
    }
  }

  void start(std::span<const T> x0) override {
    Base::start(x0);
    refresh_points();
  }
  void restored() override { refresh_points(); }
  // z_j, written out on demand after a step_computing (which never stores it).
  [[nodiscard]] std::span<const T> query_point(std::size_t j) const override {
    if (stale_.at(j) != 0) {
      elementwise<T>().subtract_scaled(Base::x_.data(), kappa_, errors_[j].data(),
                                       points_[j].data(), Base::d_);
      stale_[j] = 0;
    }
    return points_[j];
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    const auto gamma = static_cast<T>(rates.gamma);
    Base::for_each_worker([&](std::size_t j) {
      // p is built in e's own storage (e ← p − C(p) then works in place): one d-vector per worker
      // fewer to keep in the cache.
      const std::span<T> p = errors_[j];
      const std::span<const T> z = query_point(j);
      const ElementwiseKernels<T>& kernels = elementwise<T>();
      if (momenta_.empty()) {
        kernels.decayed_input(gradients[j].data(), wd_, z.data(), gamma, errors_[j].data(),
                              p.data(), Base::d_);
      } else {
        kernels.momentum_input(momenta_[j].data(), mu_, gradients[j].data(), wd_, z.data(), gamma,
                               errors_[j].data(), p.data(), Base::d_);
      }
      const std::optional<double> norm = sent_.send_keeping_error_norm_if_free(j, p, p, rates.step);
      if (norm) Base::error_is_final(j, *norm);
    });
    apply_aggregate(rates);
    refresh_points(ErrorNorms::kMeasureMissing);
    Base::end_step(sent_, rates.step);
  }

  // Without momentum, a worker's gradient, input, send and error norm in one task, the detached
  // point z = x − κe never stored: the gradient is taken at x and e as they are
  // (GradientSource::gradient_at) and p = γ(g + β_wd z) + e with z computed where it is read —
  // step()'s bits, with three passes over d per worker fewer (z's, and the gradient's and the
  // input's each reading z) and one round over the workers fewer.
  [[nodiscard]] bool computes_gradients() const override { return momenta_.empty(); }
  void step_computing(GradientSource<T>& source, const StepRates& rates) override {
    require<InternalError>(momenta_.empty(), "{} cannot compute its workers' gradients itself",
                           Base::spec());
    Base::begin_step();
    const auto gamma = static_cast<T>(rates.gamma);
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> p = errors_[j];  // in e's storage, as in step()
      const ElementwiseKernels<T>& kernels = elementwise<T>();
      const DetachedPoint<T> z{Base::x_, kappa_, errors_[j]};
      if (!source.detached_input_at(j, z, wd_, gamma, p)) {
        const std::span<const T> g = source.gradient_at(j, z);
        kernels.detached_input(g.data(), wd_, Base::x_.data(), kappa_, gamma, p.data(), Base::d_);
      }
      const std::optional<double> norm = sent_.send_keeping_error_norm_if_free(j, p, p, rates.step);
      Base::error_is_final(j, norm ? *norm : kernels.squared_norm(p.data(), Base::d_));
    });
    apply_aggregate(rates);
    std::fill(stale_.begin(), stale_.end(), 1);
    Base::end_step(sent_, rates.step);
  }

  void evaluated_model(std::span<T> out) override {
    switch (output_) {
      case DefOutput::kSynchronized:
        Base::evaluated_model(out);
        return;
      case DefOutput::kVirtual:
        virtual_model(out);
        return;
      case DefOutput::kWorkerZero:
        worker_zero_model(out);
        return;
    }
  }

 private:
  // x ← x − (the mean of the workers' messages), exchanged in pattern_.
  void apply_aggregate(const StepRates& rates) {
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    Base::subtract_from_model(aggregate_);
  }

  // z_j = x − κ e_j. In a step, a worker whose ‖e_j‖² the send left out (a sparse message) has it
  // taken in this pass, which reads e_j anyway.
  enum class ErrorNorms { kLeave, kMeasureMissing };
  void refresh_points(ErrorNorms norms = ErrorNorms::kLeave) {
    Base::for_each_worker([&](std::size_t j) {
      const ElementwiseKernels<T>& kernels = elementwise<T>();
      if (norms == ErrorNorms::kMeasureMissing && !Base::error_is_measured(j)) {
        Base::error_is_final(
            j, kernels.subtract_scaled_norm_of_b(Base::x_.data(), kappa_, errors_[j].data(),
                                                 points_[j].data(), Base::d_));
        return;
      }
      kernels.subtract_scaled(Base::x_.data(), kappa_, errors_[j].data(), points_[j].data(),
                              Base::d_);
    });
    std::fill(stale_.begin(), stale_.end(), 0);
  }
  // y = x − ē: the rank sums its workers' errors in worker order, then one allreduce ([DEF] Alg 1
  // line 13, the "one-time communication cost").
  void virtual_model(std::span<T> out) {
    std::vector<T> sum(Base::d_, T{0});
    for (const auto& e : errors_) {
      for (std::size_t i = 0; i < Base::d_; ++i) sum[i] += e[i];
    }
    Base::exchange_.communicator().allreduce_sum(std::span<T>(sum));
    const T mean = Base::mean_weight();
    for (std::size_t i = 0; i < Base::d_; ++i) out[i] = Base::x_[i] - mean * sum[i];
  }
  // PSync evaluates a worker's own model; worker 0 lives on rank 0, which broadcasts it.
  void worker_zero_model(std::span<T> out) {
    std::vector<std::uint8_t> bytes;
    if (Base::workers_.first == 0) {
      const std::span<const T> local = query_point(0);  // x − 1·e_0
      bytes.resize(local.size() * sizeof(T));
      std::memcpy(bytes.data(), local.data(), bytes.size());
    }
    Base::exchange_.communicator().broadcast(bytes, 0);
    std::memcpy(out.data(), bytes.data(), bytes.size());
  }

  WorkerCompression<T> sent_;
  Pattern pattern_;
  DefOutput output_;
  T kappa_;
  T mu_;
  T wd_;
  PerWorker<T> errors_;
  PerWorker<T> momenta_;  // μ > 0 only
  // z_i = x − κe_i, derived from x and e; stale_[i] ≠ 0 when x or e_i changed since it was
  // written (query_point writes it then: per worker, so workers' tasks may ask at once).
  mutable PerWorker<T> points_;
  mutable std::vector<std::uint8_t> stale_;
  std::vector<T> aggregate_;
};

std::vector<std::string> patterns() {
  return {"auto", "allgather", "allreduce"};
}

std::vector<ParamSpec> def_params(bool with_kappa) {
  std::vector<ParamSpec> params;
  if (with_kappa) {
    params.push_back(
        real_param("kappa", "0.3", 0, 1, "detach coefficient: gradient at x - kappa e_i"));
  }
  params.push_back(momentum_param("0"));
  params.push_back(wd_param());
  params.push_back(pattern_param("auto", patterns()));
  return params;
}

}  // namespace

std::vector<AlgorithmEntry> def_entries() {
  return {
      algorithm_entry<Def>("def", "detached error feedback; evaluates y = x - mean(e)",
                           "§3.6 ([DEF] Alg 1, eq 11)", "compressor (linear: rbgs)",
                           def_params(true), DefOutput::kVirtual, Kappa::kParameter),
      algorithm_entry<Def>("def-a", "detached error feedback; evaluates x (kappa = 0: [DEF]'s EF)",
                           "§3.6 ([DEF] Alg 1)", "compressor (linear: rbgs)", def_params(true),
                           DefOutput::kSynchronized, Kappa::kParameter),
      algorithm_entry<Def>("saef", "step-ahead EF: gradient at x - e_i, evaluates x",
                           "§3.7 ([DEF] baseline)", "compressor (linear: rbgs)", def_params(false),
                           DefOutput::kSynchronized, Kappa::kOne),
      algorithm_entry<Def>("psync", "PSync (CSER, [DEF]'s configuration): evaluates x - e_0",
                           "§3.7 ([DEF] baseline)", "compressor (linear: rbgs)", def_params(false),
                           DefOutput::kWorkerZero, Kappa::kOne),
  };
}

}  // namespace gradcomp
