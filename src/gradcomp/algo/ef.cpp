// ef: D-EF-SGD, error in gradient units (docs/algorithms.md §3.4, [Heterogeneous] Alg 2):
//   p_i = e_i + g_i,  Δ_i = C(p_i),  e_i ← p_i − Δ_i,  x ← x − γ·(1/n)Σ_i Δ_i.
// The server averages and broadcasts (pattern=server, the paper's parameter server: C up, d values
// down), or the workers allgather. ef-sync is [Heterogeneous] Alg 6 (§3.16): the same with a linear
// compressor under a shared seed, all-reduced; with the same C it equals ef (R8).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

// ef serves any pattern; ef-sync all-reduces a synchronized linear compressor.
enum class EfForm { kAnyPattern, kSynchronized };

template <class T>
class DistributedEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  DistributedEf(const AlgorithmSetup<T>& setup, const Params& p, EfForm form)
      : Base(setup, p.canonical()),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        pattern_(form == EfForm::kSynchronized ? Pattern::kAllreduce
                                               : parse_pattern(p.choice("pattern"))),
        errors_(Base::per_worker_buffer()),
        aggregate_(Base::d_) {
    require(form != EfForm::kSynchronized || sent_.codec().payload_size(setup.layout).has_value(),
            "ef-sync needs a linear compressor with a shared seed (rbgs, randk:shared=true, "
            "sketch); '{}' is not one",
            sent_.codec().spec());
    Base::name_state("e", errors_);
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      // p = e + g in e's own storage; e ← p − C(p) works in place.
      const std::span<T> p = errors_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) p[i] += gradients[j][i];
      Base::error_is_final(j, sent_.send_keeping_error(j, p, p, rates.step));
    });
    Base::exchange(pattern_, sent_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * aggregate_[i];
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  Pattern pattern_;
  PerWorker<T> errors_;
  std::vector<T> aggregate_;
};

}  // namespace

std::vector<AlgorithmEntry> ef_entries() {
  return {
      algorithm_entry<DistributedEf>(
          "ef", "D-EF-SGD: error feedback in gradient units, p = e + g, server averages",
          "§3.4 ([Heterogeneous] Alg 2)", "compressor",
          {pattern_param("server", {"server", "allgather", "allreduce"})}, EfForm::kAnyPattern),
      algorithm_entry<DistributedEf>(
          "ef-sync", "D-EF-SGD with a synchronized linear compressor over allreduce",
          "§3.16 ([Heterogeneous] Alg 6)", "compressor (linear, shared seed)", {},
          EfForm::kSynchronized),
  };
}

}  // namespace gradcomp
