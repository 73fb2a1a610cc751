// dqsgd: D-QSGD (ALGORITHMS.md §3.12, S003 Alg 1): Δ_i = Q_ω(g_i), x ← x − γ(1/n)Σ_i Δ_i, the
// server averaging and broadcasting. dqsgd-sync is S003 Alg 5 (§3.16): a linear unbiased
// quantizer under a shared seed (randk:shared=true,unbiased=true, sketch), all-reduced.
// Both use the choice's quantizer Q_ω.
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"

namespace gradcomp {

namespace {

template <class T>
class Dqsgd final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  Dqsgd(const AlgorithmSetup<T>& setup, const Params& p, bool synchronized)
      : Base(setup, p.canonical()),
        quantizers_(Base::per_worker(setup.choice.quantizer, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.quantizer)),
        pattern_(synchronized ? Pattern::kAllreduce : parse_pattern(p.choice("pattern"))),
        server_(setup.layout),
        messages_(setup.exchange.workers().count),
        aggregate_(Base::d_) {
    require(!synchronized || decoder_->payload_size(setup.layout).has_value(),
            "dqsgd-sync needs a linear quantizer with a shared seed "
            "(randk:shared=true,unbiased=true, sketch); '{}' is not one",
            decoder_->spec());
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      quantizers_[j]->encode(gradients[j], Base::layout_, Base::context(rates.step, j),
                             messages_[j]);
    }
    Base::exchange(pattern_, *decoder_, messages_, rates.step, aggregate_, Base::mean_weight(),
                   &server_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * aggregate_[i];
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> quantizers_;
  std::unique_ptr<Compressor> decoder_;
  Pattern pattern_;
  RelayServer<T> server_;
  std::vector<Message> messages_;
  std::vector<T> aggregate_;
};

}  // namespace

std::vector<AlgorithmEntry> dqsgd_entries() {
  return {
      algorithm_entry<Dqsgd>(
          "dqsgd", "D-QSGD: unbiased quantized gradients, server averages", "§3.12 (S003 Alg 1)",
          "quantizer", {pattern_param("server", {"server", "allgather", "allreduce"})}, false),
      algorithm_entry<Dqsgd>("dqsgd-sync",
                             "D-QSGD with a synchronized linear quantizer over allreduce",
                             "§3.16 (S003 Alg 5)", "quantizer (linear, shared seed)", {}, true),
  };
}

}  // namespace gradcomp
