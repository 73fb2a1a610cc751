// ef-bc: D-EF-SGD with bias correction (ALGORITHMS.md §3.14, S003 Alg 4 as reconstructed there):
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
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        quantizers_(Base::per_worker(setup.choice.quantizer, setup.exchange.workers().count)),
        compressor_decoder_(make_compressor(setup.choice.compressor)),
        quantizer_decoder_(make_compressor(setup.choice.quantizer)),
        alpha_(static_cast<T>(
            shift_step(p, *quantizer_decoder_, setup.layout, p.real("beta"), "ef-bc"))),
        errors_(Base::worker_buffers("e")),
        shifts_(Base::worker_buffers("h")),
        server_shift_(Base::shared_buffer("server/h", true)),
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
    Base::exchange(Pattern::kServer, *quantizer_decoder_, shift_messages_, rates.step, update_,
                   Base::mean_weight(), &collect_);
    Base::exchange(Pattern::kServer, *compressor_decoder_, ef_messages_, rates.step, update_,
                   Base::mean_weight(), &answer_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * update_[i];
    Base::end_step(compressor_decoder_.get(), &ef_messages_, rates.step);
  }

 private:
  void encode_worker(std::size_t j, std::span<const T> g, std::uint64_t step) {
    std::vector<T>& e = errors_[j];
    std::vector<T>& h = shifts_[j];
    for (std::size_t i = 0; i < Base::d_; ++i) {
      u_[i] = g[i] - h[i];
      p_[i] = e[i] + u_[i];
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
  std::vector<T>& server_shift_;
  std::vector<T> shift_mean_;
  CollectServer<T> collect_;
  RelayServer<T> answer_;
  std::vector<Message> ef_messages_;
  std::vector<Message> shift_messages_;
  std::vector<T> u_;
  std::vector<T> p_;
  std::vector<T> sent_;
  std::vector<T> update_;
};

}  // namespace

std::vector<AlgorithmEntry> ef_bias_correction_entries() {
  return {algorithm_entry<EfBiasCorrection>(
      "ef-bc", "D-EF-SGD with bias correction: EF on g - h_i, shifts learned with a quantizer",
      "§3.14 (S003 Alg 4)", "compressor and quantizer",
      {real_param("beta", "1", 0, 1, "bias-correction beta_bc: alpha = beta/(1 + omega)", true),
       alpha_param()})};
}

}  // namespace gradcomp
