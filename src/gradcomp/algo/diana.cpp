// DIANA (docs/algorithms.md §3.13, [Heterogeneous] Alg 3 as reconstructed there):
//   worker: Δ_i = Q_ω(g_i − h_i);  h_i ← h_i + α Δ_i;  push Δ_i
//   server: ĝ = h + (1/n)Σ_i Δ_i;  x ← x − γ ĝ (every replica applies the broadcast ĝ);
//           h ← h + α(1/n)Σ_i Δ_i   (so h = (1/n)Σ_i h_i exactly)
// α = 1/(1 + ω) unless given. The server's h lives on the server's rank only.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"
#include "gradcomp/algo/shift_step.hpp"

namespace gradcomp {

namespace {

template <class T>
class Diana final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Diana(const AlgorithmSetup<T>& setup, const Params& p)
      : Base(setup, p.canonical()),
        quantized_(setup.choice.quantizer, setup.layout, setup.seed, setup.exchange.workers(),
                   CompressorRole::kQuantizer),
        alpha_(static_cast<T>(shift_step(p, quantized_.codec(), setup.layout, 1.0, "diana"))),
        shifts_(Base::per_worker_buffer()),
        server_shift_(Base::d_, T{0}),
        server_(setup.layout,
                [this](std::span<const T> mean, std::span<T> answer) {
                  for (std::size_t i = 0; i < mean.size(); ++i) {
                    answer[i] = server_shift_[i] + mean[i];
                    server_shift_[i] += alpha_ * mean[i];
                  }
                }),
        answer_(Base::d_) {
    Base::name_state("h", shifts_);
    Base::name_server_state("server/h", server_shift_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {
      const std::span<T> u = quantized_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) u[i] = gradients[j][i] - shifts_[j][i];
      send_shift_update<T>(quantized_, j, u, shifts_[j], alpha_, rates.step);
    });
    Base::exchange(Pattern::kServer, quantized_, rates.step, answer_, Base::mean_weight(),
                   &server_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * answer_[i];
    Base::end_step(quantized_, rates.step);
  }

 private:
  WorkerCompression<T> quantized_;
  T alpha_;
  PerWorker<T> shifts_;
  std::vector<T> server_shift_;  // h, on the server's rank
  RelayServer<T> server_;
  std::vector<T> answer_;
};

}  // namespace

std::vector<AlgorithmEntry> diana_entries() {
  return {algorithm_entry<Diana>("diana",
                                 "DIANA: quantized gradient differences with learned shifts",
                                 "§3.13 ([Heterogeneous] Alg 3)", "quantizer", {alpha_param()})};
}

}  // namespace gradcomp
