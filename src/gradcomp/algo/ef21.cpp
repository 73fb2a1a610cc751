// ef21 (Richtárik, Sokolov and Fatkhullin 2021; named in S000 as a baseline that fails with RBGS),
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
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.compressor)),
        pattern_(resolve_pattern(p.choice("pattern"), *decoder_)),
        estimates_(Base::worker_buffers("v")),
        estimate_(Base::shared_buffer("v")),
        messages_(setup.exchange.workers().count),
        difference_(Base::d_),
        sent_(Base::d_),
        aggregate_(Base::d_) {}

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      std::vector<T>& v = estimates_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) difference_[i] = gradients[j][i] - v[i];
      compressors_[j]->encode(std::span<const T>(difference_), Base::layout_,
                              Base::context(rates.step, j), messages_[j]);
      Base::decode_own(*decoder_, messages_[j], rates.step, j, sent_);
      for (std::size_t i = 0; i < Base::d_; ++i) v[i] += sent_[i];
    }
    Base::exchange(pattern_, *decoder_, messages_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) {
      estimate_[i] += aggregate_[i];
      Base::x_[i] -= gamma * estimate_[i];
    }
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::unique_ptr<Compressor> decoder_;
  Pattern pattern_;
  std::vector<std::vector<T>>& estimates_;
  std::vector<T>& estimate_;
  std::vector<Message> messages_;
  std::vector<T> difference_;
  std::vector<T> sent_;
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
