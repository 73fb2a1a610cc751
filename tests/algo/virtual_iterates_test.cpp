// The virtual-iterate recurrences V1–V6 of docs/algorithms.md §4.1, checked after every step on the
// heterogeneous quadratics with noise, non-trivial compressors and (where the algorithm allows
// any schedule) a step size that changes every step. Tolerance 1e-12 relative, double precision.
#include <gtest/gtest.h>

#include "quadratics.hpp"

namespace gradcomp::testing {
namespace {

constexpr double kTolerance = 1e-12;
constexpr std::size_t kSteps = 30;

std::vector<double> mean_of(const std::vector<std::vector<double>>& vectors) {
  std::vector<double> mean(vectors.front().size(), 0.0);
  for (const auto& v : vectors) {
    for (std::size_t j = 0; j < v.size(); ++j)
      mean[j] += v[j] / static_cast<double>(vectors.size());
  }
  return mean;
}

// x̃_{t+1} = x̃_t − γ_t·direction_t, x̃_t from the state by `virtual_iterate`; x̃_0 = x_0.
void check_recurrence(
    const Quadratics& problem, const AlgorithmChoice& choice, const RateFunction& rate,
    const std::function<std::vector<double>(Algorithm<double>&, std::size_t t)>& virtual_iterate,
    const std::function<std::vector<double>(Algorithm<double>&,
                                            const std::vector<std::vector<double>>&)>& direction,
    const std::string& label) {
  std::vector<double> tracked(problem.dim, 0.0);  // x_0 = 0
  double worst = 0;
  run(problem, choice, kSteps, rate, [&](std::size_t t, Algorithm<double>& a, const auto& g) {
    const std::vector<double> dir = direction(a, g);
    for (std::size_t j = 0; j < tracked.size(); ++j) tracked[j] -= rate(t) * dir[j];
    worst = std::max(worst, relative_error(virtual_iterate(a, t), tracked));
  });
  EXPECT_LE(worst, kTolerance) << label;
}

std::vector<double> minus(std::vector<double> a, const std::vector<double>& b, double scale = 1) {
  for (std::size_t j = 0; j < a.size(); ++j) a[j] -= scale * b[j];
  return a;
}

TEST(VirtualIterates, V1AndV4ScaledEfAnyCompressorAnySchedule) {
  // V1: EF-SGD is n = 1; V4: [HardThreshold] Alg 1 with n workers, hard threshold and Top-k.
  for (const std::size_t n : {1U, 4U}) {
    const Quadratics problem(n, kSteps, 0.3);
    for (const std::string compressor : {"topk:k=3", "threshold:lambda=0.4", "scaledsign"}) {
      check_recurrence(
          problem, {"ef-scaled", compressor}, varying_rate,
          [&](Algorithm<double>& a, std::size_t) {
            return minus(state_of(a, "x"), worker_mean(a, "e", n));
          },
          [](Algorithm<double>&, const auto& g) { return mean_of(g); },
          "ef-scaled n=" + std::to_string(n) + " " + compressor);
    }
  }
}

TEST(VirtualIterates, V2DistEfSgdWithServerErrorAnySchedule) {
  const Quadratics problem(4, kSteps, 0.3);
  for (const std::string compressor : {"topk:k=3", "scaledsign", "qsgd:levels=2"}) {
    check_recurrence(
        problem, {"dist-ef-sgd", compressor}, varying_rate,
        [&](Algorithm<double>& a, std::size_t t) {
          // After step t: x̃_{t+1} = x_{t+1} − γ_t(ẽ_{t+1} + ē_{t+1}).
          auto errors = worker_mean(a, "e", 4);
          const auto server = state_of(a, "server/e");
          for (std::size_t j = 0; j < errors.size(); ++j) errors[j] += server[j];
          return minus(state_of(a, "x"), errors, varying_rate(t));
        },
        [](Algorithm<double>&, const auto& g) { return mean_of(g); }, "dist-ef-sgd " + compressor);
  }
}

TEST(VirtualIterates, V3BlockwiseWithNesterovMomentum) {
  const Quadratics problem(4, kSteps, 0.3);
  const double mu = 0.9;
  check_recurrence(
      problem, {"dist-ef-blocksgdm:momentum=0.9", "identity"}, varying_rate,
      [&](Algorithm<double>& a, std::size_t t) {
        auto errors = worker_mean(a, "e", 4);
        const auto server = state_of(a, "server/e");
        for (std::size_t j = 0; j < errors.size(); ++j) errors[j] += server[j];
        return minus(state_of(a, "x"), errors, varying_rate(t));
      },
      [&](Algorithm<double>& a, const auto& g) {
        // (1/n)Σ(μ m_t^i + g_t^i), m_t^i as updated at step t.
        auto direction = mean_of(g);
        const auto m = worker_mean(a, "m", 4);
        for (std::size_t j = 0; j < direction.size(); ++j) direction[j] += mu * m[j];
        return direction;
      },
      "dist-ef-blocksgdm");
}

TEST(VirtualIterates, V3WithS002WeightDecay) {
  // [BlockEF] App A: x̃_{t+1} = x̃_t − γ_t[(1/n)Σ(μm_t^i + g_t^i) + μm̃_t + β_wd x_t] (§3.10).
  const Quadratics problem(4, kSteps, 0.3);
  const double mu = 0.9;
  const double wd = 0.01;
  std::vector<double> x_before(problem.dim, 0.0);
  check_recurrence(
      problem, {"dist-ef-blocksgdm:momentum=0.9,wd=0.01", "identity"}, varying_rate,
      [&](Algorithm<double>& a, std::size_t t) {
        auto errors = worker_mean(a, "e", 4);
        const auto server = state_of(a, "server/e");
        for (std::size_t j = 0; j < errors.size(); ++j) errors[j] += server[j];
        return minus(state_of(a, "x"), errors, varying_rate(t));
      },
      [&](Algorithm<double>& a, const auto& g) {
        auto direction = mean_of(g);
        const auto m = worker_mean(a, "m", 4);
        const auto decay_momentum = state_of(a, "mwd");
        for (std::size_t j = 0; j < direction.size(); ++j) {
          direction[j] += mu * m[j] + mu * decay_momentum[j] + wd * x_before[j];
        }
        x_before = state_of(a, "x");
        return direction;
      },
      "dist-ef-blocksgdm with weight decay");
}

TEST(VirtualIterates, V3PrimeConstantStepRemovesMomentum) {
  // z_t = x̃_t − (γμ²/(1−μ))·mean m_{t−1} ⇒ z_{t+1} = z_t − (γ/(1−μ)) ḡ_t ([BlockEF] App G).
  const Quadratics problem(4, kSteps, 0.3);
  const double mu = 0.9;
  const double gamma = 0.05;
  check_recurrence(
      problem, {"dist-ef-blocksgdm:momentum=0.9", "identity"}, [&](std::size_t) { return gamma; },
      [&](Algorithm<double>& a, std::size_t) {
        auto errors = worker_mean(a, "e", 4);
        const auto server = state_of(a, "server/e");
        for (std::size_t j = 0; j < errors.size(); ++j) errors[j] += server[j];
        auto z = minus(state_of(a, "x"), errors, gamma);
        return minus(z, worker_mean(a, "m", 4), gamma * mu * mu / (1 - mu));
      },
      [&](Algorithm<double>&, const auto& g) {
        auto direction = mean_of(g);
        for (double& v : direction) v /= 1 - mu;
        return direction;
      },
      "V3'");
}

TEST(VirtualIterates, V5S003AlgorithmsTwoFourSeven) {
  // x_t − x̃_t = (γ/n)Σ_i e_t^i and x̃_{t+1} = x̃_t − (γ/n)Σ_i g_t^i; for Alg 4/7 this needs
  // h = (1/n)Σ h_i exactly.
  const Quadratics problem(4, kSteps, 0.3);
  for (const std::string algorithm : {"ef", "ef-bc:beta=0.5", "ec-sgd-diana"}) {
    check_recurrence(
        problem, {algorithm, "topk:k=3", "qsgd:levels=2"}, constant_rate,
        [&](Algorithm<double>& a, std::size_t) {
          return minus(state_of(a, "x"), worker_mean(a, "e", 4), constant_rate(0));
        },
        [](Algorithm<double>&, const auto& g) { return mean_of(g); }, algorithm);
  }
}

TEST(VirtualIterates, V6DefWithAndWithoutMomentumAnySchedule) {
  // y_t = x_t − ē_t ⇒ y_{t+1} = y_t − γ_t ḡ_t (gradients at x_t − κe_t^i), or − γ_t mean m_{t+1}.
  const Quadratics problem(4, kSteps, 0.3);
  for (const std::string compressor : {"rbgs:ratio=4", "topk:k=2"}) {
    check_recurrence(
        problem, {"def:kappa=0.3", compressor}, varying_rate,
        [&](Algorithm<double>& a, std::size_t) {
          return minus(state_of(a, "x"), worker_mean(a, "e", 4));
        },
        [](Algorithm<double>&, const auto& g) { return mean_of(g); }, "def " + compressor);
    check_recurrence(
        problem, {"def:kappa=0.3,momentum=0.9", compressor}, varying_rate,
        [&](Algorithm<double>& a, std::size_t) {
          return minus(state_of(a, "x"), worker_mean(a, "e", 4));
        },
        [](Algorithm<double>& a, const auto&) { return worker_mean(a, "m", 4); },
        "def momentum " + compressor);
  }
}

TEST(VirtualIterates, V6EvaluatedModelOfDefIsY) {
  const Quadratics problem(4, 10, 0.3);
  run(problem, {"def:kappa=0.3", "rbgs:ratio=4"}, 10, constant_rate,
      [&](std::size_t, Algorithm<double>& a, const auto&) {
        std::vector<double> y(problem.dim);
        a.evaluated_model(y);
        EXPECT_LE(relative_error(y, minus(state_of(a, "x"), worker_mean(a, "e", 4))), 1e-15);
      });
}

}  // namespace
}  // namespace gradcomp::testing
