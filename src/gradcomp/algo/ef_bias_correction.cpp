// ef-bc: D-EF-SGD with bias correction (docs/algorithms.md §3.14, [Heterogeneous] Alg 4 as
// reconstructed there):
//   worker: u_i = g_i − h_i;  Δ̂_i = C_δ(e_i + u_i);  Δ_i = Q_ω(u_i)
//           e_i ← e_i + u_i − Δ̂_i;  h_i ← h_i + α Δ_i;  push Δ̂_i and Δ_i
//   server: x ← x − γ(h + (1/n)Σ_i Δ̂_i);  h ← h + α(1/n)Σ_i Δ_i
// α = β_bc/(1 + ω). Two exchanges per step: the shift messages are only collected (the workers
// do not need h), then the error-feedback messages are answered with h + mean — the paper's
// traffic: two messages up, one dense vector down.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"
#include "gradcomp/algo/shift_step.hpp"

namespace gradcomp {

namespace {

template <class T>
class EfBiasCorrection final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  EfBiasCorrection(const AlgorithmSetup<T>& setup, const Params& p)
      : Base(setup, p.canonical()),
        compressed_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        quantized_(setup.choice.quantizer, setup.layout, setup.seed, setup.exchange.workers(),
                   CompressorRole::kQuantizer),
        alpha_(static_cast<T>(
            shift_step(p, quantized_.codec(), setup.layout, p.real("beta"), "ef-bc"))),
        errors_(Base::per_worker_buffer()),
        shifts_(Base::per_worker_buffer()),
        server_shift_(Base::d_, T{0}),
        shift_mean_(Base::d_),
        collect_([this](std::span<const T> mean) {
          std::copy(mean.begin(), mean.end(), shift_mean_.begin());
        }),
        answer_(setup.layout,
                [this](std::span<const T> mean, std::span<T> answer) {
                  for (std::size_t i = 0; i < mean.size(); ++i) {
                    answer[i] = server_shift_[i] + mean[i];
                    server_shift_[i] += alpha_ * shift_mean_[i];
                  }
                }),
        update_(Base::d_) {
    Base::name_state("e", errors_);
    Base::name_state("h", shifts_);
    Base::name_server_state("server/h", server_shift_);
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> u = quantized_.input(j);
      const std::span<T> p = compressed_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) {
        u[i] = gradients[j][i] - shifts_[j][i];
        p[i] = errors_[j][i] + u[i];
      }
      compressed_.send_keeping_error(j, p, errors_[j], rates.step);
      send_shift_update<T>(quantized_, j, u, shifts_[j], alpha_, rates.step);
    });
    Base::exchange(Pattern::kServer, quantized_, rates.step, update_, Base::mean_weight(),
                   &collect_);
    Base::exchange(Pattern::kServer, compressed_, rates.step, update_, Base::mean_weight(),
                   &answer_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * update_[i];
    Base::end_step(compressed_, rates.step);
  }

 private:
  WorkerCompression<T> compressed_;  // Δ̂_i = C(e_i + g_i − h_i)
  WorkerCompression<T> quantized_;   // Δ_i = Q(g_i − h_i)
  T alpha_;
  PerWorker<T> errors_;
  PerWorker<T> shifts_;
  std::vector<T> server_shift_;  // h, on the server's rank
  std::vector<T> shift_mean_;
  CollectServer<T> collect_;
  RelayServer<T> answer_;
  std::vector<T> update_;
};

}  // namespace

std::vector<AlgorithmEntry> ef_bias_correction_entries() {
  return {algorithm_entry<EfBiasCorrection>(
      "ef-bc", "D-EF-SGD with bias correction: EF on g - h_i, shifts learned with a quantizer",
      "§3.14 ([Heterogeneous] Alg 4)", "compressor and quantizer",
      {real_param("beta", "1", 0, 1, "bias-correction beta_bc: alpha = beta/(1 + omega)", true),
       alpha_param()})};
}

}  // namespace gradcomp
