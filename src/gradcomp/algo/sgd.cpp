// sgd and sgdm (docs/algorithms.md §3.1–3.2): the baselines, uncompressed (compressor = identity)
// or with any compressor and no error feedback (the no-EF baselines of [HardThreshold] §C.6.1).
// Weight decay joins the gradient (PyTorch's convention, §3.2). Momentum is applied to the
// aggregated gradient u, one buffer replicated on every worker; uncompressed this equals local
// buffers averaged (R10), and it is the only sound reading once u is compressed:
//   heavy-ball  m = μm + u;  x −= γ m                       (§3.2a)
//   nesterov    m = μm + u;  x −= γ (u + μ m)               (§3.2b, [BlockEF])
//   g+m         m = μm + u;  x −= γ (u + m)                 (§3.2c, [HardThreshold] Alg 2 /
//   PowerSGD code)
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

enum class Momentum { kOff, kOn };  // sgd, sgdm
enum class MomentumKind { kNone, kHeavyBall, kNesterov, kGradientPlusMomentum };

template <class T>
class Sgd final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Sgd(const AlgorithmSetup<T>& setup, const Params& p, Momentum momentum)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(resolve_pattern(p.choice("pattern"), sent_.codec())),
        kind_(momentum == Momentum::kOn ? parse_kind(p.choice("kind")) : MomentumKind::kNone),
        mu_(momentum == Momentum::kOn ? static_cast<T>(p.real("momentum")) : T{0}),
        wd_(static_cast<T>(p.real("wd"))),
        aggregate_(Base::d_) {
    if (kind_ != MomentumKind::kNone) {
      momentum_.assign(Base::d_, T{0});
      Base::name_state("m", momentum_);
    }
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> u = sent_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) u[i] = gradients[j][i] + wd_ * Base::x_[i];
      sent_.send(j, u, rates.step);
    });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    apply(static_cast<T>(rates.gamma));
    Base::end_step(sent_, rates.step);
  }

 private:
  static MomentumKind parse_kind(const std::string& kind) {
    if (kind == "nesterov") return MomentumKind::kNesterov;
    if (kind == "g+m") return MomentumKind::kGradientPlusMomentum;
    return MomentumKind::kHeavyBall;
  }

  void apply(T gamma) {
    std::vector<T>& x = Base::x_;
    for (std::size_t i = 0; i < Base::d_; ++i) {
      const T u = aggregate_[i];
      if (kind_ == MomentumKind::kNone) {
        x[i] -= gamma * u;
        continue;
      }
      momentum_[i] = mu_ * momentum_[i] + u;
      switch (kind_) {
        case MomentumKind::kHeavyBall:
          x[i] -= gamma * momentum_[i];
          break;
        case MomentumKind::kNesterov:
          x[i] -= gamma * (u + mu_ * momentum_[i]);
          break;
        default:
          x[i] -= gamma * (u + momentum_[i]);
          break;
      }
    }
  }

  WorkerCompression<T> sent_;
  Pattern pattern_;
  MomentumKind kind_;
  T mu_;
  T wd_;
  std::vector<T> momentum_;  // sgdm only
  std::vector<T> aggregate_;
};

std::vector<std::string> patterns() {
  return {"auto", "allgather", "allreduce", "server"};
}

}  // namespace

std::vector<AlgorithmEntry> sgd_entries() {
  return {
      algorithm_entry<Sgd>("sgd",
                           "distributed SGD; the compressor (no error feedback) if not identity",
                           "§3.1 ([DEF] eq 2)", "compressor",
                           {wd_param(), pattern_param("auto", patterns())}, Momentum::kOff),
      algorithm_entry<Sgd>(
          "sgdm",
          "SGD with momentum on the aggregate: heavy-ball, Nesterov ([BlockEF]) or g+m "
          "([HardThreshold] Alg 2)",
          "§3.2", "compressor",
          {momentum_param("0.9"),
           choice_param("kind", "heavy-ball", {"heavy-ball", "nesterov", "g+m"},
                        "heavy-ball: x -= gamma m; nesterov: x -= gamma (u + mu m); g+m: x -= "
                        "gamma (u + m)"),
           wd_param(), pattern_param("auto", patterns())},
          Momentum::kOn),
  };
}

}  // namespace gradcomp
