// dist-EF-SGD, dist-EF-SGDM and their blockwise forms (docs/algorithms.md §3.8–3.10, [BlockEF] Alg
// 2–4): two-way compression through a parameter server, errors in gradient units rescaled by r_t =
// γ_{t−1}/γ_t (γ_{−1} = 0, so r_0 = 0):
//   worker: m_i ← μ m_i + g_i;  p_i = μ m_i + g_i + r_t e_i   (μ = 0: p_i = g_i + r_t e_i)
//           push Δ_i = C(p_i);  e_i ← p_i − Δ_i
//   server: p̃ = (1/n)Σ_i Δ_i + r_t ẽ;  push Δ̃ = C(p̃);  ẽ ← p̃ − Δ̃
//   worker: x ← x − γ_t(Δ̃ + β_wd x)                          (μ = 0, [BlockEF] App A)
//           m̃ ← μ m̃ + β_wd x;  x ← x − γ_t(Δ̃ + μ m̃ + β_wd x)  (μ > 0)
// Weight decay is neither compressed nor added to g (App A). The blockwise forms fix C = C_B, the
// blockwise scaled sign (blocksign:block=B; B = 0: one block per layer), on workers and server.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"

namespace gradcomp {

namespace {

// dist-ef-sgd(m) use the choice's compressor; the blockwise forms fix blocksign:block=B.
enum class Compression { kChosen, kBlockSign };

template <class T>
class DistEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  DistEf(const AlgorithmSetup<T>& setup, const Params& p, Compression compression)
      : Base(setup, p.canonical()),
        compressor_spec_(compression == Compression::kBlockSign
                             ? fmt::format("blocksign:block={}", p.integer("block"))
                             : setup.choice.compressor),
        sent_(compressor_spec_, setup.layout, setup.seed, setup.exchange.workers()),
        mu_(static_cast<T>(p.real("momentum"))),
        wd_(static_cast<T>(p.real("wd"))),
        errors_(Base::per_worker_buffer()),
        server_error_(Base::d_, T{0}),
        server_(compressor_spec_, setup.layout, server_error_),
        answer_(Base::d_) {
    Base::name_state("e", errors_);
    // μ = 0: no momentum on the workers, none on the weight decay.
    if (mu_ != T{0}) {
      momenta_ = Base::per_worker_buffer();
      decay_momentum_.assign(Base::d_, T{0});
      Base::name_state("m", momenta_);
      Base::name_state("mwd", decay_momentum_);
    }
    Base::name_server_state("server/e", server_error_);
    Base::use_errors(&errors_);
    Base::use_server_error(&server_error_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    const T ratio =
        rates.previous_gamma == 0 ? T{0} : static_cast<T>(rates.previous_gamma / rates.gamma);
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> p = sent_.input(j);
      const std::vector<T>& e = errors_[j];
      if (momenta_.empty()) {
        for (std::size_t i = 0; i < Base::d_; ++i) p[i] = gradients[j][i] + ratio * e[i];
      } else {
        std::vector<T>& m = momenta_[j];
        for (std::size_t i = 0; i < Base::d_; ++i) {
          m[i] = mu_ * m[i] + gradients[j][i];
          p[i] = mu_ * m[i] + gradients[j][i] + ratio * e[i];
        }
      }
      Base::error_is_final(j, sent_.send_keeping_error(j, p, errors_[j], rates.step));
    });
    server_.set_error_scale(ratio);
    Base::exchange(Pattern::kServer, sent_, rates.step, answer_, Base::mean_weight(), &server_);
    apply(static_cast<T>(rates.gamma));
    Base::end_step(sent_, rates.step);
  }

 private:
  void apply(T gamma) {
    std::vector<T>& x = Base::x_;
    for (std::size_t i = 0; i < Base::d_; ++i) {
      const T decay = wd_ * x[i];
      if (mu_ == T{0}) {
        x[i] -= gamma * (answer_[i] + decay);
      } else {
        decay_momentum_[i] = mu_ * decay_momentum_[i] + decay;
        x[i] -= gamma * (answer_[i] + mu_ * decay_momentum_[i] + decay);
      }
    }
  }

  std::string compressor_spec_;
  WorkerCompression<T> sent_;
  T mu_;
  T wd_;
  PerWorker<T> errors_;
  PerWorker<T> momenta_;           // μ > 0 only
  std::vector<T> decay_momentum_;  // m̃, μ > 0 only
  std::vector<T> server_error_;    // ẽ, evolves on the server's rank only
  ErrorFeedbackServer<T> server_;
  std::vector<T> answer_;
};

ParamSpec block_param() {
  return int_param("block", "0", 0, 4294967295.0,
                   "blocksign block size; 0 = one block per layer of the layout");
}

}  // namespace

std::vector<AlgorithmEntry> dist_ef_entries() {
  return {
      algorithm_entry<DistEf>("dist-ef-sgd",
                              "two-way compression with worker and server errors (gradient units)",
                              "§3.8 ([BlockEF] Alg 2)", "compressor (workers and server)",
                              {momentum_param("0"), wd_param()}, Compression::kChosen),
      algorithm_entry<DistEf>("dist-ef-sgdm", "dist-EF-SGD with Nesterov momentum",
                              "§3.10 ([BlockEF] Alg 4, non-block)",
                              "compressor (workers and server)",
                              {momentum_param("0.9"), wd_param()}, Compression::kChosen),
      algorithm_entry<DistEf>("dist-ef-blocksgd", "dist-EF-SGD with the blockwise scaled sign",
                              "§3.9 ([BlockEF] Alg 3)", "its own: blocksign",
                              {block_param(), momentum_param("0"), wd_param()},
                              Compression::kBlockSign),
      algorithm_entry<DistEf>(
          "dist-ef-blocksgdm",
          "dist-EF-blockSGD with Nesterov momentum and [BlockEF]'s weight decay",
          "§3.10 ([BlockEF] Alg 4, App A)", "its own: blocksign",
          {block_param(), momentum_param("0.9"), wd_param()}, Compression::kBlockSign),
  };
}

}  // namespace gradcomp
