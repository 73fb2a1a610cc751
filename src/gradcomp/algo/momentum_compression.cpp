// Gradient compression vs update compression with momentum (ALGORITHMS.md §3.18, S004 Alg 2 and
// Alg 3), error in gradient units, the step size applied after aggregation, exchanged by
// allgather; weight decay joins the aggregate (the code's default), e is not rescaled when γ
// changes.
//   ef-gc (Alg 2): Δ_w = g_w + e_w;  c_w = C(Δ_w);  e_w ← Δ_w − c_w;  u = mean c_w + β_wd x
//                  m ← μ m + u (one buffer, replicated);  x ← x − γ(u + m)
//   ef-uc (Alg 3): m_w ← μ m_w + g_w;  Δ_w = m_w + g_w + e_w;  c_w = C(Δ_w);  e_w ← Δ_w − c_w
//                  x ← x − γ(mean c_w + β_wd x)
// Both use S004's "g + m" form, not S002's μm + g (§3.2c).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

template <class T>
class MomentumEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  MomentumEf(const AlgorithmSetup<T>& setup, const Params& p, bool update_compression)
      : Base(setup, p.canonical()),
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.compressor)),
        pattern_(resolve_pattern(p.choice("pattern"), *decoder_)),
        update_compression_(update_compression),
        mu_(static_cast<T>(p.real("momentum"))),
        wd_(static_cast<T>(p.real("wd"))),
        errors_(Base::worker_buffers("e")),
        local_momenta_(Base::worker_buffers("m")),
        momentum_(Base::shared_buffer("m")),
        messages_(setup.exchange.workers().count),
        delta_(Base::d_),
        sent_(Base::d_),
        aggregate_(Base::d_) {
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      std::vector<T>& e = errors_[j];
      std::vector<T>& m = local_momenta_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) {
        const T g = gradients[j][i];
        if (update_compression_) {
          m[i] = mu_ * m[i] + g;
          delta_[i] = m[i] + g + e[i];
        } else {
          delta_[i] = g + e[i];
        }
      }
      compressors_[j]->encode(std::span<const T>(delta_), Base::layout_,
                              Base::context(rates.step, j), messages_[j]);
      Base::decode_own(*decoder_, messages_[j], rates.step, j, sent_);
      for (std::size_t i = 0; i < Base::d_; ++i) e[i] = delta_[i] - sent_[i];
    }
    Base::exchange(pattern_, *decoder_, messages_, rates.step, aggregate_, Base::mean_weight());
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
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::unique_ptr<Compressor> decoder_;
  Pattern pattern_;
  bool update_compression_;
  T mu_;
  T wd_;
  std::vector<std::vector<T>>& errors_;
  std::vector<std::vector<T>>& local_momenta_;
  std::vector<T>& momentum_;
  std::vector<Message> messages_;
  std::vector<T> delta_;
  std::vector<T> sent_;
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
          "§3.18 (S004 Alg 2)", "compressor", momentum_ef_params(), false),
      algorithm_entry<MomentumEf>("ef-uc",
                                  "EF compressing local momentum updates (DGC style, g + m form)",
                                  "§3.18 (S004 Alg 3)", "compressor", momentum_ef_params(), true),
  };
}

}  // namespace gradcomp
