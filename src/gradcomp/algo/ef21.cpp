// ef21 (Richtárik, Sokolov and Fatkhullin 2021; named in [DEF] as a baseline that fails with RBGS),
// the rule as written in docs/algorithms.md. Each worker keeps an estimate v_i of its gradient and
// sends only a compressed correction; every replica keeps v = (1/n)Σ_i v_i:
//   c_i = C(g_i − v_i);  v_i ← v_i + c_i;  v ← v + (1/n)Σ_i c_i;  x ← x − γ v
// with v_i = v = 0 at the start (so the first message is C(g_i(x_0))). This is the paper's
// x^{t+1} = x^t − γ g^t, g_i^{t+1} = g_i^t + C(∇f_i(x^{t+1}) − g_i^t), evaluated in our step
// order (gradient first, then the model update) with g_i^0 = C(∇f_i(x^0)).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

template <class T>
class Ef21 final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Ef21(const AlgorithmSetup<T>& setup, const Params& p)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(resolve_pattern(p.choice("pattern"), sent_.codec())),
        estimates_(Base::per_worker_buffer()),
        estimate_(Base::d_, T{0}),
        aggregate_(Base::d_) {
    Base::name_state("v", estimates_);
    Base::name_state("v", estimate_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      std::vector<T>& v = estimates_[j];
      const std::span<T> difference = sent_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) difference[i] = gradients[j][i] - v[i];
      const std::span<const T> c = sent_.send_and_decode(j, difference, rates.step);
      for (std::size_t i = 0; i < Base::d_; ++i) v[i] += c[i];
    });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) {
      estimate_[i] += aggregate_[i];
      Base::x_[i] -= gamma * estimate_[i];
    }
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  Pattern pattern_;
  PerWorker<T> estimates_;   // v_i
  std::vector<T> estimate_;  // v = mean v_i, on every replica
  std::vector<T> aggregate_;
};

}  // namespace

std::vector<AlgorithmEntry> ef21_entries() {
  return {
      algorithm_entry<Ef21>("ef21", "EF21: compress the change of each worker's gradient estimate",
                            "docs/algorithms.md (Richtárik et al. 2021)", "compressor",
                            {pattern_param("auto", {"auto", "allgather", "allreduce", "server"})})};
}

}  // namespace gradcomp
