// Gradient compression vs update compression with momentum (docs/algorithms.md §3.18,
// [HardThreshold] Alg 2 and Alg 3), error in gradient units, the step size applied after
// aggregation, exchanged by allgather; weight decay joins the aggregate (the code's default), e is
// not rescaled when γ changes.
//   ef-gc (Alg 2): Δ_w = g_w + e_w;  c_w = C(Δ_w);  e_w ← Δ_w − c_w;  u = mean c_w + β_wd x
//                  m ← μ m + u (one buffer, replicated);  x ← x − γ(u + m)
//   ef-uc (Alg 3): m_w ← μ m_w + g_w;  Δ_w = m_w + g_w + e_w;  c_w = C(Δ_w);  e_w ← Δ_w − c_w
//                  x ← x − γ(mean c_w + β_wd x)
// Both use [HardThreshold]'s "g + m" form, not [BlockEF]'s μm + g (§3.2c).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

// ef-gc compresses gradients (momentum after aggregation, one replicated buffer); ef-uc compresses
// local momentum updates (one buffer per worker).
enum class Compressed { kGradient, kUpdate };

template <class T>
class MomentumEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  MomentumEf(const AlgorithmSetup<T>& setup, const Params& p, Compressed compressed)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(resolve_pattern(p.choice("pattern"), sent_.codec())),
        update_compression_(compressed == Compressed::kUpdate),
        mu_(static_cast<T>(p.real("momentum"))),
        wd_(static_cast<T>(p.real("wd"))),
        errors_(Base::per_worker_buffer()),
        aggregate_(Base::d_) {
    Base::name_state("e", errors_);
    if (update_compression_) {
      local_momenta_ = Base::per_worker_buffer();
      Base::name_state("m", local_momenta_);
    } else {
      momentum_.assign(Base::d_, T{0});
      Base::name_state("m", momentum_);
    }
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      const std::vector<T>& e = errors_[j];
      const std::span<T> delta = sent_.input(j);
      if (update_compression_) {
        std::vector<T>& m = local_momenta_[j];
        for (std::size_t i = 0; i < Base::d_; ++i) {
          const T g = gradients[j][i];
          m[i] = mu_ * m[i] + g;
          delta[i] = m[i] + g + e[i];
        }
      } else {
        for (std::size_t i = 0; i < Base::d_; ++i) delta[i] = gradients[j][i] + e[i];
      }
      sent_.send_keeping_error(j, delta, errors_[j], rates.step);
    });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    std::vector<T>& x = Base::x_;
    for (std::size_t i = 0; i < Base::d_; ++i) {
      const T u = aggregate_[i] + wd_ * x[i];
      if (update_compression_) {
        x[i] -= gamma * u;
      } else {
        momentum_[i] = mu_ * momentum_[i] + u;
        x[i] -= gamma * (u + momentum_[i]);
      }
    }
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  Pattern pattern_;
  bool update_compression_;
  T mu_;
  T wd_;
  PerWorker<T> errors_;
  PerWorker<T> local_momenta_;  // ef-uc: m_w
  std::vector<T> momentum_;     // ef-gc: m, the same on every replica
  std::vector<T> aggregate_;
};

std::vector<ParamSpec> momentum_ef_params() {
  return {momentum_param("0.9"), wd_param(),
          pattern_param("allgather", {"auto", "allgather", "allreduce", "server"})};
}

}  // namespace

std::vector<AlgorithmEntry> momentum_compression_entries() {
  return {
      algorithm_entry<MomentumEf>(
          "ef-gc", "EF compressing gradients, momentum after aggregation (g + m form)",
          "§3.18 ([HardThreshold] Alg 2)", "compressor", momentum_ef_params(),
          Compressed::kGradient),
      algorithm_entry<MomentumEf>(
          "ef-uc", "EF compressing local momentum updates (DGC style, g + m form)",
          "§3.18 ([HardThreshold] Alg 3)", "compressor", momentum_ef_params(), Compressed::kUpdate),
  };
}

}  // namespace gradcomp
