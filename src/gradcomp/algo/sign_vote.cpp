// signsgd-mv and signum-mv (ALGORITHMS.md §3.11, S002's baselines; Bernstein et al.):
//   signsgd-mv: push sign(g_i); the vote V = sign(Σ_i sign(g_i)) (sign(0) = +1); x ← x − γ V
//   signum-mv:  v_i ← β v_i + (1 − β) g_i; push sign(v_i); the vote; x ← x − γ(V + β_wd x)
// (weight decay outside the sign, §3.11's reading of Bernstein et al. 2019).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

template <class T>
class SignVote final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  SignVote(const AlgorithmSetup<T>& setup, const Params& p, bool with_momentum)
      : Base(setup, p.canonical()),
        signs_(Base::per_worker("sign", setup.exchange.workers().count)),
        decoder_(make_compressor("sign")),
        beta_(with_momentum ? static_cast<T>(p.real("momentum")) : T{0}),
        wd_(static_cast<T>(p.real("wd"))),
        momenta_(Base::worker_buffers("v")),
        messages_(setup.exchange.workers().count),
        vote_(Base::d_) {}

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      std::vector<T>& v = momenta_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) {
        v[i] = beta_ * v[i] + (T{1} - beta_) * gradients[j][i];
      }
      signs_[j]->encode(std::span<const T>(v), Base::layout_, Base::context(rates.step, j),
                        messages_[j]);
    }
    Base::exchange(Pattern::kMajorityVote, *decoder_, messages_, rates.step, vote_, T{1});
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) {
      Base::x_[i] -= gamma * (vote_[i] + wd_ * Base::x_[i]);
    }
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> signs_;
  std::unique_ptr<Compressor> decoder_;
  T beta_;
  T wd_;
  std::vector<std::vector<T>>& momenta_;
  std::vector<Message> messages_;
  std::vector<T> vote_;
};

}  // namespace

std::vector<AlgorithmEntry> sign_vote_entries() {
  return {
      algorithm_entry<SignVote>("signsgd-mv", "signSGD with majority vote", "§3.11",
                                "its own: sign", {wd_param()}, false),
      algorithm_entry<SignVote>("signum-mv", "signum (sign of momentum) with majority vote",
                                "§3.11", "its own: sign", {momentum_param("0.9"), wd_param()},
                                true),
  };
}

}  // namespace gradcomp
