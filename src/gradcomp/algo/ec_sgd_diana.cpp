// ec-sgd-diana: EC-SGD-DIANA (ALGORITHMS.md §3.15, S003 Alg 7; Gorbunov et al. 2020):
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
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        quantizers_(Base::per_worker(setup.choice.quantizer, setup.exchange.workers().count)),
        compressor_decoder_(make_compressor(setup.choice.compressor)),
        quantizer_decoder_(make_compressor(setup.choice.quantizer)),
        alpha_(
            static_cast<T>(shift_step(p, *quantizer_decoder_, setup.layout, 1.0, "ec-sgd-diana"))),
        errors_(Base::worker_buffers("e")),
        shifts_(Base::worker_buffers("h")),
        shift_(Base::shared_buffer("h")),
        relay_(setup.layout),
        next_shift_(setup.layout,
                    [this](std::span<const T> mean, std::span<T> answer) {
                      for (std::size_t i = 0; i < mean.size(); ++i) {
                        answer[i] = shift_[i] + alpha_ * mean[i];
                      }
                    }),
        ef_messages_(setup.exchange.workers().count),
        shift_messages_(setup.exchange.workers().count),
        u_(Base::d_),
        p_(Base::d_),
        sent_(Base::d_),
        update_(Base::d_) {
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) encode_worker(j, gradients[j], rates.step);
    Base::exchange(Pattern::kServer, *compressor_decoder_, ef_messages_, rates.step, update_,
                   Base::mean_weight(), &relay_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * update_[i];
    // Into a scratch buffer: on the server's rank the answer is computed from shift_ itself.
    Base::exchange(Pattern::kServer, *quantizer_decoder_, shift_messages_, rates.step, update_,
                   Base::mean_weight(), &next_shift_);
    std::copy(update_.begin(), update_.end(), shift_.begin());
    Base::end_step(compressor_decoder_.get(), &ef_messages_, rates.step);
  }

 private:
  void encode_worker(std::size_t j, std::span<const T> g, std::uint64_t step) {
    std::vector<T>& e = errors_[j];
    std::vector<T>& h = shifts_[j];
    for (std::size_t i = 0; i < Base::d_; ++i) {
      u_[i] = g[i] - h[i];
      p_[i] = e[i] + u_[i] + shift_[i];
    }
    const StepContext context = Base::context(step, j);
    compressors_[j]->encode(std::span<const T>(p_), Base::layout_, context, ef_messages_[j]);
    quantizers_[j]->encode(std::span<const T>(u_), Base::layout_, context, shift_messages_[j]);
    Base::decode_own(*compressor_decoder_, ef_messages_[j], step, j, sent_);
    for (std::size_t i = 0; i < Base::d_; ++i) e[i] = p_[i] - sent_[i];
    Base::decode_own(*quantizer_decoder_, shift_messages_[j], step, j, sent_);
    for (std::size_t i = 0; i < Base::d_; ++i) h[i] += alpha_ * sent_[i];
  }

  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::vector<std::unique_ptr<Compressor>> quantizers_;
  std::unique_ptr<Compressor> compressor_decoder_;
  std::unique_ptr<Compressor> quantizer_decoder_;
  T alpha_;
  std::vector<std::vector<T>>& errors_;
  std::vector<std::vector<T>>& shifts_;
  std::vector<T>& shift_;
  RelayServer<T> relay_;
  RelayServer<T> next_shift_;
  std::vector<Message> ef_messages_;
  std::vector<Message> shift_messages_;
  std::vector<T> u_;
  std::vector<T> p_;
  std::vector<T> sent_;
  std::vector<T> update_;
};

}  // namespace

std::vector<AlgorithmEntry> ec_sgd_diana_entries() {
  return {algorithm_entry<EcSgdDiana>(
      "ec-sgd-diana", "error compensation with DIANA shifts: EF on g - h_i + h",
      "§3.15 (S003 Alg 7)", "compressor and quantizer", {alpha_param()})};
}

}  // namespace gradcomp
