// ef-scaled: distributed EF-SGD with the error in parameter units and Δ = γ·C(p/γ)
// (docs/algorithms.md §3.5, [HardThreshold] Alg 1), the form absolute compressors need (hard
// threshold: γ·C_λ(p/γ) = C_{γλ}(p), R7):
//   p_i = e_i + γ_t g_i,  Δ_i = γ_t C(p_i/γ_t),  e_i ← p_i − Δ_i,  x ← x − (1/n)Σ_i Δ_i.
// Exchanged by allgather, as in [HardThreshold]'s experiments. With n = 1 it is EF-SGD (§3.3) for
// any positively homogeneous C. ef-gdstar (§3.17, EC-GD-star): the same with g_i replaced by g_i −
// ∇f_i(x*); the trainer supplies ∇f_i(x*) (set_optimum_gradient). With full gradients the error
// vanishes at x*.
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/gradients_at_model.hpp"

namespace gradcomp {

namespace {

// ef-scaled, or ef-gdstar with every gradient shifted by the worker's gradient at x*.
enum class Shift { kNone, kOptimumGradient };

template <class T>
class ScaledEf final : public GradientsAtModel<T> {
  using Base = GradientsAtModel<T>;

 public:
  ScaledEf(const AlgorithmSetup<T>& setup, const Params& p, Shift shift)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(resolve_pattern(p.choice("pattern"), sent_.codec())),
        shifted_(shift == Shift::kOptimumGradient),
        errors_(Base::per_worker_buffer()),
        aggregate_(Base::d_) {
    Base::name_state("e", errors_);
    Base::use_errors(&errors_);
    if (shifted_) {
      optimum_gradients_ = Base::per_worker_buffer();
      Base::name_state("hstar", optimum_gradients_);  // checkpointed: a resumed run needs it
    }
  }

  [[nodiscard]] bool needs_optimum_gradients() const override { return shifted_; }
  void set_optimum_gradient(std::size_t j, std::span<const T> gradient) override {
    require<InternalError>(shifted_, "{} has no optimum gradients", Base::spec());
    std::copy(gradient.begin(), gradient.end(), optimum_gradients_.at(j).begin());
  }
  void start(std::span<const T> x0) override {
    // ∇f_i(x*) is data, not state: it survives the restart.
    const PerWorker<T> kept = optimum_gradients_;
    Base::start(x0);
    for (std::size_t j = 0; j < kept.size(); ++j) {
      std::copy(kept[j].begin(), kept[j].end(), optimum_gradients_[j].begin());
    }
  }

 private:
  void step_on(const TaskGradients<T>& gradients, const StepRates& rates) override {
    Base::begin_step();
    const auto gamma = static_cast<T>(rates.gamma);
    Base::for_each_worker([&](std::size_t j) {
      // p is built in e's own storage (e ← p − γC(p/γ) then works in place): one d-vector per
      // worker fewer to keep in the cache.
      const std::span<T> p = errors_[j];
      const std::span<const T> g = gradients.of(j);
      if (shifted_) {
        for (std::size_t i = 0; i < Base::d_; ++i) {
          p[i] = errors_[j][i] + gamma * (g[i] - optimum_gradients_[j][i]);
        }
      } else {
        elementwise<T>().add_scaled(p.data(), gamma, g.data(), p.data(), Base::d_);
      }
      Base::error_is_final(j, sent_.send_keeping_error(j, p, p, rates.step, gamma));
    });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, gamma * Base::mean_weight());
    Base::subtract_from_model(aggregate_);
    Base::end_step(sent_, rates.step);
  }

  WorkerCompression<T> sent_;
  Pattern pattern_;
  bool shifted_;
  PerWorker<T> errors_;
  PerWorker<T> optimum_gradients_;  // ef-gdstar only
  std::vector<T> aggregate_;
};

std::vector<std::string> patterns() {
  return {"auto", "allgather", "allreduce", "server"};
}

}  // namespace

std::vector<AlgorithmEntry> ef_scaled_entries() {
  return {
      algorithm_entry<ScaledEf>("ef-scaled",
                                "EF-SGD with the error in parameter units, Delta = gamma "
                                "C(p/gamma) (absolute compressors)",
                                "§3.5 ([HardThreshold] Alg 1); n = 1: §3.3", "compressor",
                                {pattern_param("allgather", patterns())}, Shift::kNone),
      algorithm_entry<ScaledEf>("ef-gdstar",
                                "EF-GD with every worker's gradient shifted by its gradient at x*",
                                "§3.17 ([HardThreshold] §C.3.2)", "compressor",
                                {pattern_param("allgather", patterns())}, Shift::kOptimumGradient),
  };
}

}  // namespace gradcomp
