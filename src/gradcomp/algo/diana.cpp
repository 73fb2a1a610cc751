// DIANA (ALGORITHMS.md §3.13, S003 Alg 3 as reconstructed there):
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
        quantizers_(Base::per_worker(setup.choice.quantizer, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.quantizer)),
        alpha_(static_cast<T>(shift_step(p, *decoder_, setup.layout, 1.0, "diana"))),
        shifts_(Base::worker_buffers("h")),
        server_shift_(Base::shared_buffer("server/h", true)),
        server_(setup.layout,
                [this](std::span<const T> mean, std::span<T> answer) {
                  for (std::size_t i = 0; i < mean.size(); ++i) {
                    answer[i] = server_shift_[i] + mean[i];
                    server_shift_[i] += alpha_ * mean[i];
                  }
                }),
        messages_(setup.exchange.workers().count),
        u_(Base::d_),
        sent_(Base::d_),
        answer_(Base::d_) {}

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      std::vector<T>& h = shifts_[j];
      for (std::size_t i = 0; i < Base::d_; ++i) u_[i] = gradients[j][i] - h[i];
      quantizers_[j]->encode(std::span<const T>(u_), Base::layout_, Base::context(rates.step, j),
                             messages_[j]);
      Base::decode_own(*decoder_, messages_[j], rates.step, j, sent_);
      for (std::size_t i = 0; i < Base::d_; ++i) h[i] += alpha_ * sent_[i];
    }
    Base::exchange(Pattern::kServer, *decoder_, messages_, rates.step, answer_, Base::mean_weight(),
                   &server_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * answer_[i];
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> quantizers_;
  std::unique_ptr<Compressor> decoder_;
  T alpha_;
  std::vector<std::vector<T>>& shifts_;
  std::vector<T>& server_shift_;
  RelayServer<T> server_;
  std::vector<Message> messages_;
  std::vector<T> u_;
  std::vector<T> sent_;
  std::vector<T> answer_;
};

}  // namespace

std::vector<AlgorithmEntry> diana_entries() {
  return {algorithm_entry<Diana>("diana",
                                 "DIANA: quantized gradient differences with learned shifts",
                                 "§3.13 (S003 Alg 3)", "quantizer", {alpha_param()})};
}

}  // namespace gradcomp
