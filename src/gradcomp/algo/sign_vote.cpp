// signsgd-mv and signum-mv (docs/algorithms.md §3.11, [BlockEF]'s baselines; Bernstein et al.):
//   signsgd-mv: push sign(g_i); the vote V = sign(Σ_i sign(g_i)) (sign(0) = +1); x ← x − γ V
//   signum-mv:  v_i ← β v_i + (1 − β) g_i; push sign(v_i); the vote; x ← x − γ(V + β_wd x)
// (weight decay outside the sign, §3.11's reading of Bernstein et al. 2019).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

enum class Momentum { kOff, kOn };  // signsgd-mv, signum-mv

template <class T>
class SignVote final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  SignVote(const AlgorithmSetup<T>& setup, const Params& p, Momentum momentum)
      : Base(setup, p.canonical()),
        sent_("sign", setup.layout, setup.seed, setup.exchange.workers()),
        beta_(momentum == Momentum::kOn ? static_cast<T>(p.real("momentum")) : T{0}),
        wd_(static_cast<T>(p.real("wd"))),
        vote_(Base::d_) {
    if (momentum == Momentum::kOn) {
      momenta_ = Base::per_worker_buffer();
      Base::name_state("v", momenta_);
    }
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      if (momenta_.empty()) {
        sent_.send(j, gradients[j], rates.step);
        return;
      }
      std::vector<T>& v = momenta_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) {
        v[i] = beta_ * v[i] + (T{1} - beta_) * gradients[j][i];
      }
      sent_.send(j, std::span<const T>(v), rates.step);
    });
    Base::exchange(Pattern::kMajorityVote, sent_, rates.step, vote_, T{1});
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) {
      Base::x_[i] -= gamma * (vote_[i] + wd_ * Base::x_[i]);
    }
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  T beta_;
  T wd_;
  PerWorker<T> momenta_;  // signum-mv only
  std::vector<T> vote_;
};

}  // namespace

std::vector<AlgorithmEntry> sign_vote_entries() {
  return {
      algorithm_entry<SignVote>("signsgd-mv", "signSGD with majority vote", "§3.11",
                                "its own: sign", {wd_param()}, Momentum::kOff),
      algorithm_entry<SignVote>("signum-mv", "signum (sign of momentum) with majority vote",
                                "§3.11", "its own: sign", {momentum_param("0.9"), wd_param()},
                                Momentum::kOn),
  };
}

}  // namespace gradcomp
