// Every kind of algorithm gives the `local` answer under `mpi` (the identities of docs/algorithms.md §4 are
// checked in process by tests/algo; here the layouts): 100 steps of the noisy heterogeneous
// quadratics, n = p and n = 2p workers. Bit-identical where every sum runs in worker order
// (allgather, vote, server), ≤ 1e-6 relative where payloads are all-reduced; the evaluated model
// (DEF's y = x − ē, PSync's worker-0 model) and the diagnostics agree as well.
#include <gtest/gtest.h>

#include "algo/quadratics.hpp"
#include "gradcomp/comm/mpi_communicator.hpp"

namespace gradcomp::testing {
namespace {

struct AlgorithmCase {
  AlgorithmChoice choice;
  bool all_reduced;
};

const std::vector<AlgorithmCase> kAlgorithms = {
    {{"sgdm:kind=nesterov", "topk:k=3"}, false},
    {{"ef", "topk:k=3"}, false},
    {{"ef-sync", "rbgs:ratio=4"}, true},
    {{"ef-scaled", "threshold:lambda=0.3"}, false},
    {{"def:kappa=0.3,momentum=0.9", "rbgs:ratio=4"}, true},
    {{"psync", "rbgs:ratio=4"}, true},
    {{"dist-ef-blocksgdm", "identity"}, false},
    {{"signum-mv", "identity"}, false},
    {{"dqsgd", "identity", "qsgd:levels=2"}, false},
    {{"diana", "identity", "qsgd:levels=2"}, false},
    {{"ef-bc", "topk:k=3", "qsgd:levels=2"}, false},
    {{"ec-sgd-diana", "topk:k=3", "terngrad"}, false},
    {{"ef-gc", "topk:k=3"}, false},
    {{"ef21", "topk:k=3"}, false},
};

TEST(MpiAlgorithms, LayoutsGiveTheLocalAnswer) {
  MpiCommunicator mpi;
  for (const std::size_t workers : {mpi.size(), 2 * mpi.size()}) {
    const Quadratics problem(workers, 100, 0.3);
    for (const auto& [choice, all_reduced] : kAlgorithms) {
      Exchange distributed(mpi, WorkerGroup::split(workers, mpi));
      Diagnostics on_mpi;
      const auto a = run_with(distributed, problem, choice, 100, varying_rate,
                              [&](std::size_t t, Algorithm<double>& alg, const auto&) {
                                if (t == 99) on_mpi = alg.diagnostics();
                              });
      Diagnostics on_local;
      const auto b = run(problem, choice, 100, varying_rate,
                         [&](std::size_t t, Algorithm<double>& alg, const auto&) {
                           if (t == 99) on_local = alg.diagnostics();
                         });
      const std::string label = choice.algorithm + " n=" + std::to_string(workers);
      if (all_reduced) {
        EXPECT_LE(relative_error(a.models.back(), b.models.back()), 1e-6) << label;
        EXPECT_LE(relative_error(a.evaluated.back(), b.evaluated.back()), 1e-6) << label;
      } else {
        EXPECT_EQ(a.models.back(), b.models.back()) << label;
        EXPECT_EQ(a.evaluated.back(), b.evaluated.back()) << label;
      }
      if (!std::isnan(on_local.mean_error_norm2)) {
        EXPECT_NEAR(on_mpi.mean_error_norm2, on_local.mean_error_norm2,
                    1e-6 * on_local.mean_error_norm2)
            << label;
        EXPECT_NEAR(on_mpi.kappa_star, on_local.kappa_star, 1e-6) << label;
        EXPECT_NEAR(on_mpi.total_error, on_local.total_error, 1e-6 * on_local.total_error) << label;
      }
      EXPECT_NEAR(on_mpi.density, on_local.density, 1e-12) << label;
    }
  }
}

// Every (algorithm, pattern) pair `gradcomp list` offers runs under mpirun and gives the local
// answer: three steps, n = 2p.
TEST(MpiAlgorithms, EveryOfferedPatternGivesTheLocalAnswer) {
  MpiCommunicator mpi;
  const Quadratics problem(2 * mpi.size(), 3, 0.3);
  for (const auto& [choice, pattern] : offered_pattern_cases()) {
    Exchange distributed(mpi, WorkerGroup::split(problem.workers, mpi));
    const auto a = run_with(distributed, problem, choice, 3, varying_rate);
    const auto b = run(problem, choice, 3, varying_rate);
    EXPECT_LE(relative_error(a.models.back(), b.models.back()), 1e-12) << choice.algorithm;
    EXPECT_NE(a.models.back(), a.models.front()) << choice.algorithm;
  }
}

}  // namespace
}  // namespace gradcomp::testing
