// dqsgd: D-QSGD (docs/algorithms.md §3.12, [Heterogeneous] Alg 1): Δ_i = Q_ω(g_i), x ← x −
// γ(1/n)Σ_i Δ_i, the server averaging and broadcasting. dqsgd-sync is [Heterogeneous] Alg 5
// (§3.16): a linear unbiased quantizer under a shared seed (randk:shared=true,unbiased=true,
// sketch), all-reduced. Both use the choice's quantizer Q_ω.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

// dqsgd serves any pattern; dqsgd-sync all-reduces a synchronized linear quantizer.
enum class DqsgdForm { kAnyPattern, kSynchronized };

template <class T>
class Dqsgd final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Dqsgd(const AlgorithmSetup<T>& setup, const Params& p, DqsgdForm form)
      : Base(setup, p.canonical()),
        sent_(setup.choice.quantizer, setup.layout, setup.seed, setup.exchange.workers(),
              form == DqsgdForm::kSynchronized ? CompressorRole::kSynchronizedQuantizer
                                               : CompressorRole::kQuantizer),
        pattern_(form == DqsgdForm::kSynchronized ? Pattern::kAllreduce
                                                  : parse_pattern(p.choice("pattern"))),
        aggregate_(Base::d_) {
    require(
        form != DqsgdForm::kSynchronized || sent_.codec().payload_size(setup.layout).has_value(),
        "dqsgd-sync needs a linear quantizer with a shared seed "
        "(randk:shared=true,unbiased=true, sketch); '{}' is not one",
        sent_.codec().spec());
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) { sent_.send(j, gradients[j], rates.step); });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * aggregate_[i];
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  Pattern pattern_;
  std::vector<T> aggregate_;
};

}  // namespace

std::vector<AlgorithmEntry> dqsgd_entries() {
  return {
      algorithm_entry<Dqsgd>("dqsgd", "D-QSGD: unbiased quantized gradients, server averages",
                             "§3.12 ([Heterogeneous] Alg 1)", "quantizer",
                             {pattern_param("server", {"server", "allgather", "allreduce"})},
                             DqsgdForm::kAnyPattern),
      algorithm_entry<Dqsgd>("dqsgd-sync",
                             "D-QSGD with a synchronized linear quantizer over allreduce",
                             "§3.16 ([Heterogeneous] Alg 5)", "quantizer (linear, shared seed)", {},
                             DqsgdForm::kSynchronized),
  };
}

}  // namespace gradcomp
