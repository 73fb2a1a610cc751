// The algorithm registry: every entry builds for float and double and names itself; errors list
// what is valid; a rerun is bit-identical.
#include <gtest/gtest.h>

#include "gradcomp/core/error.hpp"
#include "quadratics.hpp"

namespace gradcomp::testing {
namespace {

TEST(AlgorithmRegistry, EveryEntryBuildsAndStepsInFloatAndDouble) {
  EXPECT_EQ(algorithm_entries().size(), 24U);
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(2, local));
  const Layout layout = quadratics_layout();
  for (const auto& entry : algorithm_entries()) {
    const AlgorithmChoice choice{entry.name, "rbgs:ratio=4",
                                 "randk:ratio=0.5,unbiased=true,shared=true"};
    auto as_double = make_algorithm<double>({exchange, layout, 1, choice});
    auto as_float = make_algorithm<float>({exchange, layout, 1, choice});
    EXPECT_EQ(as_double->spec().rfind(entry.name, 0), 0U) << entry.name;
    as_float->start(std::vector<float>(12, 1.0F));
    const std::vector<float> g(12, 0.5F);
    as_float->step({g, g}, {0, 0.1, 0});
    EXPECT_FALSE(as_float->traffic().empty()) << entry.name;
    for (const float v : as_float->model()) EXPECT_TRUE(std::isfinite(v)) << entry.name;
  }
}

// Every pattern an algorithm lists works (the server pattern through the relay where the
// algorithm has no server of its own), and says so in its traffic.
TEST(AlgorithmRegistry, EveryOfferedPatternSteps) {
  const Quadratics problem(4, 3, 0.3);
  const auto cases = offered_pattern_cases();
  EXPECT_EQ(cases.size(), 57U);  // 24 algorithms; those with a pattern parameter, each choice
  std::size_t server_cases = 0;
  for (const auto& [choice, pattern] : cases) {
    Algorithm<double>* seen = nullptr;
    std::vector<StepTraffic> traffic;
    const auto result =
        run(problem, choice, 3, varying_rate, [&](std::size_t, Algorithm<double>& a, const auto&) {
          seen = &a;
          traffic.assign(a.traffic().begin(), a.traffic().end());
        });
    ASSERT_NE(seen, nullptr) << choice.algorithm;
    for (const double v : result.models.back()) EXPECT_TRUE(std::isfinite(v)) << choice.algorithm;
    EXPECT_NE(result.models.back(), result.models.front()) << choice.algorithm;
    ASSERT_FALSE(traffic.empty()) << choice.algorithm;
    if (pattern == "allreduce" || pattern == "allgather" || pattern == "server") {
      EXPECT_EQ(pattern_name(traffic.front().pattern), pattern) << choice.algorithm;
    }
    if (pattern == "server") ++server_cases;
  }
  EXPECT_EQ(server_cases, 9U);  // sgd, sgdm, ef, ef-scaled, ef-gdstar, dqsgd, ef-gc, ef-uc, ef21
}

TEST(AlgorithmRegistry, ErrorsListWhatIsValid) {
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(2, local));
  const Layout layout = quadratics_layout();
  const auto message = [&](AlgorithmChoice choice) {
    try {
      (void)make_algorithm<double>({exchange, layout, 1, std::move(choice)});
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({"adam"}).rfind("unknown algorithm 'adam'; algorithms: sgd, sgdm, ef, ", 0),
            0U);
  EXPECT_EQ(
      message({"def:lambda=0.3"}),
      "def: unknown parameter 'lambda'; parameters of def: kappa [0, 1], momentum [0, 0.999999], "
      "wd [0, 1000000], pattern auto|allgather|allreduce");
  EXPECT_EQ(message({"ef-sync", "topk:k=3"}),
            "ef-sync needs a linear compressor with a shared seed (rbgs, randk:shared=true, "
            "sketch); 'topk:k=3,scope=model,index=auto,values=auto' is not one");
  EXPECT_EQ(message({"diana", "identity", "topk:k=3"}),
            "diana: the quantizer 'topk:k=3,scope=model,index=auto,values=auto' declares no "
            "omega, so alpha = beta/(1 + omega) is unknown; give alpha, or use a quantizer "
            "that declares omega (qsgd, terngrad, randk:unbiased=true)");
}

TEST(AlgorithmRegistry, RerunsAreBitIdentical) {
  const Quadratics problem(4, 20, 0.3);
  for (const std::string algorithm : {"def", "dist-ef-blocksgdm", "diana", "ef-bc", "signum-mv"}) {
    const AlgorithmChoice choice{algorithm, "topk:k=3", "qsgd:levels=2"};
    EXPECT_EQ(run(problem, choice, 20, varying_rate).models,
              run(problem, choice, 20, varying_rate).models)
        << algorithm;
  }
}

}  // namespace
}  // namespace gradcomp::testing

namespace gradcomp::testing {
namespace {

// Checkpoint completeness: for every algorithm, copying state() and totals() after 10 steps into
// a fresh instance and continuing gives the same next 10 steps, bit for bit.
TEST(AlgorithmRegistry, StateBuffersAreACompleteCheckpoint) {
  const Quadratics problem(4, 20, 0.3);
  const Layout layout = quadratics_layout();
  for (const auto& entry : algorithm_entries()) {
    const AlgorithmChoice choice{
        entry.name, entry.name.ends_with("sync") ? "rbgs:ratio=4" : "topk:k=3",
        entry.name == "dqsgd-sync" ? "randk:ratio=0.5,unbiased=true,shared=true" : "qsgd:levels=2"};
    LocalCommunicator local;
    Exchange exchange(local, WorkerGroup::split(4, local));
    auto drive = [&](Algorithm<double>& a, std::size_t from, std::size_t to) {
      for (std::size_t t = from; t < to; ++t) {
        std::vector<std::vector<double>> g;
        for (std::size_t i = 0; i < 4; ++i)
          g.push_back(problem.stochastic_gradient(t, i, a.query_point(i)));
        std::vector<std::span<const double>> views(g.begin(), g.end());
        a.step(views, {t, varying_rate(t), t == 0 ? 0.0 : varying_rate(t - 1)});
      }
    };
    auto original = make_algorithm<double>({exchange, layout, 9, choice});
    original->start(std::vector<double>(12, 0.0));
    if (original->needs_optimum_gradients()) {
      for (std::size_t i = 0; i < 4; ++i) {
        original->set_optimum_gradient(i, problem.local_gradient(i, problem.optimum()));
      }
    }
    drive(*original, 0, 10);
    std::vector<std::vector<double>> saved;
    for (const auto& b : original->state()) saved.emplace_back(b.data.begin(), b.data.end());
    const std::vector<double> totals = original->totals();
    drive(*original, 10, 20);

    auto resumed = make_algorithm<double>({exchange, layout, 9, choice});
    resumed->start(std::vector<double>(12, 1.0));  // overwritten below
    const auto buffers = resumed->state();
    ASSERT_EQ(buffers.size(), saved.size()) << entry.name;
    for (std::size_t k = 0; k < buffers.size(); ++k) {
      std::copy(saved[k].begin(), saved[k].end(), buffers[k].data.begin());
    }
    resumed->restore_totals(totals);
    resumed->restored();
    drive(*resumed, 10, 20);
    EXPECT_TRUE(
        std::equal(original->model().begin(), original->model().end(), resumed->model().begin()))
        << entry.name;
    const double a = original->diagnostics().total_error;
    const double b = resumed->diagnostics().total_error;
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << entry.name << ": " << a << " " << b;
  }
}

}  // namespace
}  // namespace gradcomp::testing
