// ef: D-EF-SGD, error in gradient units (ALGORITHMS.md §3.4, S003 Alg 2):
//   p_i = e_i + g_i,  Δ_i = C(p_i),  e_i ← p_i − Δ_i,  x ← x − γ·(1/n)Σ_i Δ_i.
// The server averages and broadcasts (pattern=server, the paper's parameter server: C up, d values
// down), or the workers allgather. ef-sync is S003 Alg 6 (§3.16): the same with a linear
// compressor under a shared seed, all-reduced; with the same C it equals ef (R8).
#include "gradcomp/algo/algorithm_base.hpp"
#include "gradcomp/algo/common.hpp"
#include "gradcomp/algo/entries.hpp"
#include "gradcomp/algo/servers.hpp"

namespace gradcomp {

namespace {

template <class T>
class DistributedEf final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  DistributedEf(const AlgorithmSetup<T>& setup, const Params& p, bool synchronized)
      : Base(setup, p.canonical()),
        compressors_(Base::per_worker(setup.choice.compressor, setup.exchange.workers().count)),
        decoder_(make_compressor(setup.choice.compressor)),
        pattern_(synchronized ? Pattern::kAllreduce : parse_pattern(p.choice("pattern"))),
        errors_(Base::worker_buffers("e")),
        server_(setup.layout),
        messages_(setup.exchange.workers().count),
        p_(Base::d_),
        sent_(Base::d_),
        aggregate_(Base::d_) {
    require(!synchronized || decoder_->payload_size(setup.layout).has_value(),
            "ef-sync needs a linear compressor with a shared seed (rbgs, randk:shared=true, "
            "sketch); '{}' is not one",
            decoder_->spec());
    Base::use_errors(&errors_);
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    for (std::size_t j = 0; j < gradients.size(); ++j) {
      for (std::size_t i = 0; i < Base::d_; ++i) p_[i] = errors_[j][i] + gradients[j][i];
      compressors_[j]->encode(std::span<const T>(p_), Base::layout_, Base::context(rates.step, j),
                              messages_[j]);
      Base::decode_own(*decoder_, messages_[j], rates.step, j, sent_);
      for (std::size_t i = 0; i < Base::d_; ++i) errors_[j][i] = p_[i] - sent_[i];
    }
    Base::exchange(pattern_, *decoder_, messages_, rates.step, aggregate_, Base::mean_weight(),
                   &server_);
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * aggregate_[i];
    Base::end_step(decoder_.get(), &messages_, rates.step);
  }

 private:
  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::unique_ptr<Compressor> decoder_;
  Pattern pattern_;
  std::vector<std::vector<T>>& errors_;
  RelayServer<T> server_;
  std::vector<Message> messages_;
  std::vector<T> p_;
  std::vector<T> sent_;
  std::vector<T> aggregate_;
};

}  // namespace

std::vector<AlgorithmEntry> ef_entries() {
  return {
      algorithm_entry<DistributedEf>(
          "ef", "D-EF-SGD: error feedback in gradient units, p = e + g, server averages",
          "§3.4 (S003 Alg 2)", "compressor",
          {pattern_param("server", {"server", "allgather", "allreduce"})}, false),
      algorithm_entry<DistributedEf>(
          "ef-sync", "D-EF-SGD with a synchronized linear compressor over allreduce",
          "§3.16 (S003 Alg 6)", "compressor (linear, shared seed)", {}, true),
  };
}

}  // namespace gradcomp
