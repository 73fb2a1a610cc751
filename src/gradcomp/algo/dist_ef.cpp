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
// Two variants that [BlockEF] does not define, for studying its momentum (docs/algorithms.md
// §3.10): kind = heavy-ball sends p_i = m_i + r_t e_i and decays by x ← x − γ_t(Δ̃ + m̃);
// momentum_of = update keeps one momentum of the server's answer instead of each worker's of its
// gradients (workers send p_i = g_i + r_t e_i; m ← μm + Δ̃; x ← x − γ_t(μm + Δ̃ + ...), or
// x ← x − γ_t(m + ...) for heavy ball). Either with C = identity is SGDM of that kind.
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/gradients_at_model.hpp"
#include "gradcomp/algo/servers.hpp"
#include "gradcomp/comm/coordinate_slices.hpp"

namespace gradcomp {

namespace {

// dist-ef-sgd(m) use the choice's compressor; the blockwise forms fix blocksign:block=B.
enum class Compression { kChosen, kBlockSign };
enum class MomentumKind { kNesterov, kHeavyBall };
enum class MomentumOf { kGradient, kUpdate };  // each worker's gradients, or the server's answer

template <class T>
class DistEf final : public GradientsAtModel<T> {
  using Base = GradientsAtModel<T>;

 public:
  DistEf(const AlgorithmSetup<T>& setup, const Params& p, Compression compression)
      : Base(setup, p.canonical()),
        compressor_spec_(compression == Compression::kBlockSign
                             ? fmt::format("blocksign:block={}", p.integer("block"))
                             : setup.choice.compressor),
        sent_(compressor_spec_, setup.layout, setup.seed, setup.exchange.workers()),
        mu_(static_cast<T>(p.real("momentum"))),
        wd_(static_cast<T>(p.real("wd"))),
        kind_(p.choice("kind") == "heavy-ball" ? MomentumKind::kHeavyBall
                                               : MomentumKind::kNesterov),
        momentum_of_(p.choice("momentum_of") == "update" ? MomentumOf::kUpdate
                                                         : MomentumOf::kGradient),
        errors_(Base::per_worker_buffer()),
        server_error_(Base::d_, T{0}),
        server_(compressor_spec_, setup.layout, server_error_),
        answer_(Base::d_) {
    Base::name_state("e", errors_);
    // μ = 0: no momentum on the workers, none on the weight decay.
    if (mu_ != T{0}) {
      if (momentum_of_ == MomentumOf::kGradient) {
        momenta_ = Base::per_worker_buffer();
        Base::name_state("m", momenta_);
      } else {
        update_momentum_.assign(Base::d_, T{0});
        Base::name_state("m", update_momentum_);
      }
      decay_momentum_.assign(Base::d_, T{0});
      Base::name_state("mwd", decay_momentum_);
    }
    Base::name_server_state("server/e", server_error_);
    Base::use_errors(&errors_);
    Base::use_server_error(&server_error_);
  }

 private:
  void step_on(const TaskGradients<T>& gradients, const StepRates& rates) override {
    Base::begin_step();
    const T ratio =
        rates.previous_gamma == 0 ? T{0} : static_cast<T>(rates.previous_gamma / rates.gamma);
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> p = sent_.input(j);
      const std::vector<T>& e = errors_[j];
      const std::span<const T> g = gradients.of(j);
      if (momenta_.empty()) {
        for (std::size_t i = 0; i < Base::d_; ++i) p[i] = g[i] + ratio * e[i];
      } else {
        std::vector<T>& m = momenta_[j];
        const bool nesterov = kind_ == MomentumKind::kNesterov;
        for (std::size_t i = 0; i < Base::d_; ++i) {
          m[i] = mu_ * m[i] + g[i];
          p[i] = (nesterov ? mu_ * m[i] + g[i] : m[i]) + ratio * e[i];
        }
      }
      Base::error_is_final(j, sent_.send_keeping_error(j, p, errors_[j], rates.step));
    });
    server_.set_error_scale(ratio);
    Base::exchange(Pattern::kServer, sent_, rates.step, answer_, Base::mean_weight(), &server_);
    apply(static_cast<T>(rates.gamma));
    Base::end_step(sent_, rates.step);
  }

  // x ← x − γ(direction + decay term); with momentum each of the answer and the decay has its own
  // buffer, combined as the kind says (Nesterov: u + μm, heavy ball: m). Each coordinate on its
  // own, so the coordinates are split between the pool's threads (the same bits for any number),
  // and each case is a loop of its own without branches, which the compiler vectorises: the
  // one loop with the cases inside ran a coordinate at a time, on one thread, while the others
  // waited (4% of a 2-thread dist-ef-blocksgdm run).
  void apply(T gamma) {
    const CoordinateSlices slices(Base::d_, Base::exchange_.pool().threads());
    const bool nesterov = kind_ == MomentumKind::kNesterov;
    const bool of_update = momentum_of_ == MomentumOf::kUpdate;
    Base::exchange_.pool().run(slices.count(), [&](std::size_t s) {
      const std::size_t begin = slices.begin(s);
      const std::size_t end = slices.end(s);
      if (mu_ == T{0}) {
        apply_slice<false, false, false>(gamma, begin, end);
      } else if (nesterov) {
        of_update ? apply_slice<true, true, true>(gamma, begin, end)
                  : apply_slice<true, true, false>(gamma, begin, end);
      } else {
        of_update ? apply_slice<true, false, true>(gamma, begin, end)
                  : apply_slice<true, false, false>(gamma, begin, end);
      }
    });
  }
  template <bool kMomentum, bool kNesterov, bool kOfUpdate>
  void apply_slice(T gamma, std::size_t begin, std::size_t end) {
    T* __restrict x = Base::x_.data();
    const T* __restrict answer = answer_.data();
    T* __restrict decay_momentum = decay_momentum_.data();
    T* __restrict update_momentum = update_momentum_.data();
    const T mu = mu_;
    const T wd = wd_;
    for (std::size_t i = begin; i < end; ++i) {
      const T decay = wd * x[i];
      if constexpr (!kMomentum) {
        x[i] -= gamma * (answer[i] + decay);
      } else {
        decay_momentum[i] = mu * decay_momentum[i] + decay;
        const T decay_term = kNesterov ? mu * decay_momentum[i] + decay : decay_momentum[i];
        T direction = answer[i];
        if constexpr (kOfUpdate) {
          update_momentum[i] = mu * update_momentum[i] + answer[i];
          direction = kNesterov ? mu * update_momentum[i] + answer[i] : update_momentum[i];
        }
        x[i] -= gamma * (direction + decay_term);
      }
    }
  }

  std::string compressor_spec_;
  WorkerCompression<T> sent_;
  T mu_;
  T wd_;
  MomentumKind kind_;
  MomentumOf momentum_of_;
  PerWorker<T> errors_;
  PerWorker<T> momenta_;            // μ > 0, momentum of the gradients only
  std::vector<T> update_momentum_;  // μ > 0, momentum of the answer only
  std::vector<T> decay_momentum_;   // m̃, μ > 0 only
  std::vector<T> server_error_;     // ẽ, evolves on the server's rank only
  ErrorFeedbackServer<T> server_;
  std::vector<T> answer_;
};

ParamSpec block_param() {
  return int_param("block", "0", 0, 4294967295.0,
                   "blocksign block size; 0 = one block per layer of the layout");
}

// momentum, wd, then the two momentum variants (μ > 0 only).
std::vector<ParamSpec> momentum_params(const char* momentum) {
  return {momentum_param(momentum), wd_param(),
          choice_param("kind", "nesterov", {"nesterov", "heavy-ball"},
                       "nesterov ([BlockEF] Alg 4): send mu m + g; heavy-ball: send m"),
          choice_param("momentum_of", "gradient", {"gradient", "update"},
                       "gradient: each worker's momentum before its error feedback ([BlockEF]); "
                       "update: one momentum of the server's answer")};
}

std::vector<ParamSpec> with_block(std::vector<ParamSpec> params) {
  params.insert(params.begin(), block_param());
  return params;
}

}  // namespace

std::vector<AlgorithmEntry> dist_ef_entries() {
  return {
      algorithm_entry<DistEf>("dist-ef-sgd",
                              "two-way compression with worker and server errors (gradient units)",
                              "§3.8 ([BlockEF] Alg 2)", "compressor (workers and server)",
                              momentum_params("0"), Compression::kChosen),
      algorithm_entry<DistEf>("dist-ef-sgdm", "dist-EF-SGD with Nesterov momentum",
                              "§3.10 ([BlockEF] Alg 4, non-block)",
                              "compressor (workers and server)", momentum_params("0.9"),
                              Compression::kChosen),
      algorithm_entry<DistEf>("dist-ef-blocksgd", "dist-EF-SGD with the blockwise scaled sign",
                              "§3.9 ([BlockEF] Alg 3)", "its own: blocksign",
                              with_block(momentum_params("0")), Compression::kBlockSign),
      algorithm_entry<DistEf>(
          "dist-ef-blocksgdm",
          "dist-EF-blockSGD with Nesterov momentum and [BlockEF]'s weight decay",
          "§3.10 ([BlockEF] Alg 4, App A)", "its own: blocksign",
          with_block(momentum_params("0.9")), Compression::kBlockSign),
  };
}

}  // namespace gradcomp
