// ec-sgd-diana: EC-SGD-DIANA (docs/algorithms.md §3.15, [Heterogeneous] Alg 7; Gorbunov et al.
// 2020):
//   worker: Δ̂_i = C_δ(e_i + g_i − h_i + h);  Δ_i = Q_ω(g_i − h_i)
//           e_i ← e_i + g_i − h_i + h − Δ̂_i;  h_i ← h_i + α Δ_i;  push Δ̂_i, Δ_i
//   server: x ← x − γ(1/n)Σ_i Δ̂_i;  h ← (1/n)Σ_i h_i = h + α(1/n)Σ_i Δ_i;  broadcast x and h
// The workers need h, so the server answers both exchanges: the mean update, then the new h
// (the paper's "x and h", 2d values down). Every replica holds the same h.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"
#include "gradcomp/algo/shift_step.hpp"

namespace gradcomp {

namespace {

template <class T>
class EcSgdDiana final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  EcSgdDiana(const AlgorithmSetup<T>& setup, const Params& p)
      : Base(setup, p.canonical()),
        compressed_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        quantized_(setup.choice.quantizer, setup.layout, setup.seed, setup.exchange.workers(),
                   CompressorRole::kQuantizer),
        alpha_(
            static_cast<T>(shift_step(p, quantized_.codec(), setup.layout, 1.0, "ec-sgd-diana"))),
        errors_(Base::per_worker_buffer()),
        shifts_(Base::per_worker_buffer()),
        shift_(Base::d_, T{0}),
        next_shift_(setup.layout,
                    [this](std::span<const T> mean, std::span<T> answer) {
                      for (std::size_t i = 0; i < mean.size(); ++i) {
                        answer[i] = shift_[i] + alpha_ * mean[i];
                      }
                    }),
        update_(Base::d_) {
    Base::name_state("e", errors_);
    Base::name_state("h", shifts_);
    Base::name_state("h", shift_);
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> u = quantized_.input(j);
      const std::span<T> p = compressed_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) {
        u[i] = gradients[j][i] - shifts_[j][i];
        p[i] = errors_[j][i] + u[i] + shift_[i];
      }
      compressed_.send_keeping_error(j, p, errors_[j], rates.step);
      send_shift_update<T>(quantized_, j, u, shifts_[j], alpha_, rates.step);
    });
    // The relay answers the mean update.
    Base::exchange(Pattern::kServer, compressed_, rates.step, update_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * update_[i];
    // Into a scratch buffer: on the server's rank the answer is computed from shift_ itself.
    Base::exchange(Pattern::kServer, quantized_, rates.step, update_, Base::mean_weight(),
                   &next_shift_);
    std::copy(update_.begin(), update_.end(), shift_.begin());
    Base::end_step(compressed_, rates.step);
  }

 private:
  WorkerCompression<T> compressed_;  // Δ̂_i = C(e_i + g_i − h_i + h)
  WorkerCompression<T> quantized_;   // Δ_i = Q(g_i − h_i)
  T alpha_;
  PerWorker<T> errors_;
  PerWorker<T> shifts_;
  std::vector<T> shift_;  // h, the same on every replica
  RelayServer<T> next_shift_;
  std::vector<T> update_;
};

}  // namespace

std::vector<AlgorithmEntry> ec_sgd_diana_entries() {
  return {algorithm_entry<EcSgdDiana>(
      "ec-sgd-diana", "error compensation with DIANA shifts: EF on g - h_i + h",
      "§3.15 ([Heterogeneous] Alg 7)", "compressor and quantizer", {alpha_param()})};
}

}  // namespace gradcomp
