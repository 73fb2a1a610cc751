// docs/architecture.md's worked example of adding an algorithm: error feedback (D-EF-SGD),
//   p_j = e_j + g_j,  e_j ← p_j − C(p_j),  x ← x − γ·(1/n)Σ_j C(p_j),
// written as a new file would be. The test checks that it gives the registry's
// `ef:pattern=allgather` bit for bit. To register it, add
//   algorithm_entry<ExampleErrorFeedback>("name", "summary", "section", "compressor", {})
// to a `<name>_entries()` function listed in algo/registry.cpp.
#include <gtest/gtest.h>

#include "algo/quadratics.hpp"
#include "gradcomp/algo/algorithm_base.hpp"

namespace gradcomp::testing {
namespace {

template <class T>
class ExampleErrorFeedback final : public AlgorithmBase<T> {
  using Base = AlgorithmBase<T>;

 public:
  explicit ExampleErrorFeedback(const AlgorithmSetup<T>& setup)
      : Base(setup, "example-ef"),
        sent_(setup.choice.compressor, setup.layout, setup.seed, setup.exchange.workers()),
        errors_(Base::per_worker_buffer()),
        aggregate_(Base::d_) {
    Base::name_state("e", errors_);  // checkpointed, zeroed by start()
    Base::use_errors(&errors_);      // the diagnostics' error norms
  }

  void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) override {
    Base::begin_step();
    Base::for_each_worker([&](std::size_t j) {  // on workers.threads threads
      const std::span<T> p = sent_.input(j);
      for (std::size_t i = 0; i < Base::d_; ++i) p[i] = errors_[j][i] + gradients[j][i];
      sent_.send_keeping_error(j, p, errors_[j], rates.step);
    });
    Base::exchange(Pattern::kAllgather, sent_, rates.step, aggregate_, Base::mean_weight());
    const auto gamma = static_cast<T>(rates.gamma);
    for (std::size_t i = 0; i < Base::d_; ++i) Base::x_[i] -= gamma * aggregate_[i];
    Base::end_step(sent_, rates.step);
  }

 private:
  WorkerCompression<T> sent_;
  PerWorker<T> errors_;
  std::vector<T> aggregate_;
};

TEST(ArchitectureExample, AnAlgorithmInOneShortFileMatchesTheRegistryEf) {
  const Quadratics problem(4, 30, 0.3);
  const AlgorithmChoice choice{"ef:pattern=allgather", "topk:k=3"};
  const auto reference = run(problem, choice, 30, varying_rate);

  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(problem.workers, local));
  const Layout layout = quadratics_layout();
  ExampleErrorFeedback<double> example({exchange, layout, 9, choice});
  example.start(std::vector<double>(problem.dim, 0.0));
  for (std::size_t t = 0; t < 30; ++t) {
    std::vector<std::vector<double>> g;
    for (std::size_t j = 0; j < problem.workers; ++j) {
      g.push_back(problem.stochastic_gradient(t, j, example.query_point(j)));
    }
    const std::vector<std::span<const double>> views(g.begin(), g.end());
    example.step(views, {t, varying_rate(t), t == 0 ? 0.0 : varying_rate(t - 1)});
    ASSERT_EQ(std::vector<double>(example.model().begin(), example.model().end()),
              reference.models[t + 1])
        << "step " << t;
  }
  EXPECT_EQ(example.state().size(), 1 + problem.workers);  // x and e/0 .. e/3
  EXPECT_GT(example.diagnostics().mean_error_norm2, 0.0);
}

}  // namespace
}  // namespace gradcomp::testing
