// ef-scaled: distributed EF-SGD with the error in parameter units and Δ = γ·C(p/γ)
// (ALGORITHMS.md §3.5, S004 Alg 1), the form absolute compressors need (hard threshold:
// γ·C_λ(p/γ) = C_{γλ}(p), R7):
//   p_i = e_i + γ_t g_i,  Δ_i = γ_t C(p_i/γ_t),  e_i ← p_i − Δ_i,  x ← x − (1/n)Σ_i Δ_i.
// Exchanged by allgather, as in S004's experiments. With n = 1 it is EF-SGD (§3.3) for any
// positively homogeneous C.
// ef-gdstar (§3.17, EC-GD-star): the same with g_i replaced by g_i − ∇f_i(x*); the trainer
// supplies ∇f_i(x*) (set_optimum_gradient). With full gradients the error vanishes at x*.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"

namespace gradcomp {

namespace {

template <class T>
class ScaledEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  ScaledEf(const AlgorithmSetup<T>& setup, const Params& p, bool shifted)
      : Base(setup, p.canonical()),
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.compressor)),
        pattern_(resolve_pattern(p.choice("pattern"), *decoder_)),
        shifted_(shifted),
        errors_(Base::worker_buffers("e")),
        optimum_gradients_(Base::worker_buffers("hstar")),
        messages_(setup.exchange.workers().count),
        p_(Base::d_),
        scaled_(Base::d_),
        sent_(Base::d_),
        aggregate_(Base::d_) {
    Base::use_errors(&errors_);
  }

  [[nodiscard]] bool needs_optimum_gradients() const override { return shifted_; }
  void set_optimum_gradient(std::size_t j, std::span<const T> gradient) override {
    std::copy(gradient.begin(), gradient.end(), optimum_gradients_.at(j).begin());
  }
  void start(std::span<const T> x0) override {
    // ∇f_i(x*) is data, not state: it survives the restart.
    const auto kept = optimum_gradients_;
    Base::start(x0);
    optimum_gradients_ = kept;
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      for (std::size_t i = 0; i < Base::d_; ++i) {
        const T g = shifted_ ? gradients[j][i] - optimum_gradients_[j][i] : gradients[j][i];
        p_[i] = errors_[j][i] + gamma * g;
        scaled_[i] = p_[i] / gamma;
      }
      compressors_[j]->encode(std::span<const T>(scaled_), Base::layout_,
                              Base::context(rates.step, j), messages_[j]);
      Base::decode_own(*decoder_, messages_[j], rates.step, j, sent_);
      for (std::size_t i = 0; i < Base::d_; ++i) errors_[j][i] = p_[i] - gamma * sent_[i];
    }
    Base::exchange(pattern_, *decoder_, messages_, rates.step, aggregate_,
                   gamma * Base::mean_weight());
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= aggregate_[i];
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::unique_ptr<Compressor> decoder_;
  Pattern pattern_;
  bool shifted_;
  std::vector<std::vector<T>>& errors_;
  std::vector<std::vector<T>>& optimum_gradients_;
  std::vector<Message> messages_;
  std::vector<T> p_;
  std::vector<T> scaled_;
  std::vector<T> sent_;
  std::vector<T> aggregate_;
};

std::vector<std::string> patterns() {
  return {"auto", "allgather", "allreduce", "server"};
}

}  // namespace

std::vector<AlgorithmEntry> ef_scaled_entries() {
  return {
      algorithm_entry<ScaledEf>("ef-scaled",
                                "EF-SGD with the error in parameter units, Delta = gamma "
                                "C(p/gamma) (absolute compressors)",
                                "§3.5 (S004 Alg 1); n = 1: §3.3", "compressor",
                                {pattern_param("allgather", patterns())}, false),
      algorithm_entry<ScaledEf>(
          "ef-gdstar", "EF-GD with every worker's gradient shifted by its gradient at x*",
          "§3.17 (S004 §C.3.2)", "compressor", {pattern_param("allgather", patterns())}, true),
  };
}

}  // namespace gradcomp
