// The reductions R1–R11 of docs/algorithms.md §4.2: special cases where one algorithm must
// reproduce another (or must not: R5), step by step on the same stochastic gradients, 1e-12
// relative.
#include <gtest/gtest.h>

#include "gradcomp/compress/registry.hpp"
#include "quadratics.hpp"

namespace gradcomp::testing {
namespace {

constexpr double kTolerance = 1e-12;
constexpr std::size_t kSteps = 30;

double worst_difference(const std::vector<std::vector<double>>& a,
                        const std::vector<std::vector<double>>& b) {
  double worst = 0;
  for (std::size_t t = 0; t < a.size() && t < b.size(); ++t) {
    worst = std::max(worst, relative_error(a[t], b[t]));
  }
  return worst;
}

TEST(Reductions, R1DefSingleWorkerKappaOneFollowsTheSgdPath) {
  const Quadratics problem(1, kSteps, 0.5);
  const auto sgd = run(problem, {"sgd", "identity"}, kSteps, varying_rate);
  for (const std::string compressor : {"topk:k=2", "rbgs:ratio=4", "scaledsign"}) {
    const auto def = run(problem, {"def:kappa=1", compressor}, kSteps, varying_rate);
    // y_{t+1} (def's evaluated model after step t) = SGD's x_{t+1}.
    const std::vector<std::vector<double>> sgd_after(sgd.models.begin() + 1, sgd.models.end());
    EXPECT_LE(worst_difference(def.evaluated, sgd_after), kTolerance) << compressor;
  }
}

TEST(Reductions, R2DefAWithScalingIsIterateAveraging) {
  // n = 1, κ = 1, C(v) = δv: x_{t+1} = (1−δ)x_t + δy_{t+1}, and the closed form of eq. (12).
  const double delta = 0.3;
  const Quadratics problem(1, kSteps, 0.5);
  std::vector<std::vector<double>> ys{std::vector<double>(problem.dim, 0.0)};  // y_0 = x_0 = 0
  double worst = 0;
  std::vector<double> previous(problem.dim, 0.0);
  run(problem, {"def-a:kappa=1", "scale:delta=0.3"}, kSteps, constant_rate,
      [&](std::size_t t, Algorithm<double>& a, const auto&) {
        const auto x = state_of(a, "x");
        const auto e = state_of(a, "e/0");
        std::vector<double> y(x.size()), averaged(x.size()), closed(x.size(), 0.0);
        for (std::size_t j = 0; j < x.size(); ++j) {
          y[j] = x[j] - e[j];
          averaged[j] = (1 - delta) * previous[j] + delta * y[j];
        }
        ys.push_back(y);
        const std::size_t steps = t + 1;
        for (std::size_t s = 1; s <= steps; ++s) {
          const double w = delta * std::pow(1 - delta, static_cast<double>(steps - s));
          for (std::size_t j = 0; j < x.size(); ++j) closed[j] += w * ys[s][j];
        }
        for (std::size_t j = 0; j < x.size(); ++j) {
          closed[j] += std::pow(1 - delta, static_cast<double>(steps)) * ys[0][j];
        }
        worst = std::max({worst, relative_error(x, averaged), relative_error(x, closed)});
        previous = x;
      });
  EXPECT_LE(worst, kTolerance);
}

TEST(Reductions, R3OddCompressorSingleWorker) {
  // n = 1, κ = 1, odd C (Top-2): x_{t+1} = x_t + C(y_{t+1} − x_t).
  const Quadratics problem(1, kSteps, 0.5);
  const Layout layout = quadratics_layout();
  const auto topk = make_compressor("topk:k=2");
  std::vector<double> previous(problem.dim, 0.0);
  double worst = 0;
  run(problem, {"def:kappa=1", "topk:k=2"}, kSteps, constant_rate,
      [&](std::size_t t, Algorithm<double>& a, const auto&) {
        const auto x = state_of(a, "x");
        std::vector<double> y(problem.dim), step(problem.dim), expected(previous);
        a.evaluated_model(y);
        for (std::size_t j = 0; j < y.size(); ++j) step[j] = y[j] - previous[j];
        const Message m = topk->encode(std::span<const double>(step), layout, {9, t, 0});
        topk->decode_add(m, layout, {9, t, 0}, std::span<double>(expected), 1.0);
        worst = std::max(worst, relative_error(x, expected));
        previous = x;
      });
  EXPECT_LE(worst, kTolerance);
}

TEST(Reductions, R4EveryErrorFeedbackAlgorithmWithIdentityIsItsUncompressedCounterpart) {
  const Quadratics problem(4, kSteps, 0.5);
  const auto sgd = run(problem, {"sgd", "identity"}, kSteps, varying_rate).models;
  const auto nesterov =
      run(problem, {"sgdm:kind=nesterov", "identity"}, kSteps, varying_rate).models;
  const auto gm = run(problem, {"sgdm:kind=g+m", "identity"}, kSteps, varying_rate).models;
  const auto heavy_ball =
      run(problem, {"sgdm:kind=heavy-ball", "identity"}, kSteps, varying_rate).models;
  const std::vector<std::pair<AlgorithmChoice, const std::vector<std::vector<double>>*>> cases = {
      {{"ef", "identity"}, &sgd},
      {{"ef:pattern=allgather", "identity"}, &sgd},
      {{"ef-sync", "identity"}, &sgd},
      {{"ef-scaled", "identity"}, &sgd},
      {{"def", "identity"}, &sgd},
      {{"def-a", "identity"}, &sgd},
      {{"saef", "identity"}, &sgd},
      {{"psync", "identity"}, &sgd},
      {{"dist-ef-sgd", "identity"}, &sgd},
      {{"dist-ef-sgdm", "identity"}, &nesterov},
      {{"dist-ef-sgdm:kind=heavy-ball", "identity"}, &heavy_ball},
      {{"dist-ef-sgdm:momentum_of=update", "identity"}, &nesterov},
      {{"dist-ef-sgdm:kind=heavy-ball,momentum_of=update", "identity"}, &heavy_ball},
      {{"ef-gc", "identity"}, &gm},
      {{"ef-uc", "identity"}, &gm},
      {{"ef21", "identity"}, &sgd},
      {{"dqsgd", "identity", "identity"}, &sgd},
      {{"ef-bc", "identity", "identity"}, &sgd},
      {{"ec-sgd-diana", "identity", "identity"}, &sgd},
  };
  for (const auto& [choice, expected] : cases) {
    const auto models = run(problem, choice, kSteps, varying_rate).models;
    EXPECT_LE(worst_difference(models, *expected), kTolerance) << choice.algorithm;
  }
}

TEST(Reductions, R5DistEfSgdWithOneWorkerIsNotEfSgd) {
  // The server compresses again. (For an idempotent C — Top-k, scaled or blockwise sign,
  // threshold — C(C(p)) = C(p) keeps ẽ = 0 and the two do coincide at n = 1, so the negative
  // test takes compressors that are not: δ·v and QSGD.)
  const Quadratics problem(1, kSteps, 0.5);
  for (const std::string compressor : {"scale:delta=0.5", "qsgd:levels=2"}) {
    const auto two_way = run(problem, {"dist-ef-sgd", compressor}, kSteps, constant_rate).models;
    const auto one_way = run(problem, {"ef-scaled", compressor}, kSteps, constant_rate).models;
    EXPECT_GT(relative_error(two_way.back(), one_way.back()), 1e-3) << compressor;
  }
  const auto idempotent = run(problem, {"dist-ef-sgd", "topk:k=2"}, kSteps, constant_rate).models;
  const auto ef_sgd = run(problem, {"ef-scaled", "topk:k=2"}, kSteps, constant_rate).models;
  EXPECT_LE(relative_error(idempotent.back(), ef_sgd.back()), kTolerance);
}

TEST(Reductions, R6ParameterAndGradientUnitsAgreeForHomogeneousCompressors) {
  // Constant γ, Top-3: DEF(κ = 0, mean of C(p_i)) ≡ [HardThreshold] Alg 1 ≡ [Heterogeneous] Alg 2.
  const Quadratics problem(4, kSteps, 0.5);
  const auto def =
      run(problem, {"def-a:kappa=0,pattern=allgather", "topk:k=3"}, kSteps, constant_rate).models;
  const auto scaled = run(problem, {"ef-scaled", "topk:k=3"}, kSteps, constant_rate).models;
  const auto gradient_units = run(problem, {"ef", "topk:k=3"}, kSteps, constant_rate).models;
  EXPECT_LE(worst_difference(def, scaled), kTolerance);
  EXPECT_LE(worst_difference(gradient_units, scaled), kTolerance);
}

TEST(Reductions, R7ThresholdScalesItsLambda) {
  // γ·C_λ(p/γ) = C_{γλ}(p).
  const Layout layout = quadratics_layout();
  const auto p = gaussian_vector<double>(12, 3);
  for (const double gamma : {0.5, 0.1, 2.0}) {
    const auto scaled_input = [&] {
      std::vector<double> v(p);
      for (double& x : v) x /= gamma;
      return v;
    }();
    std::vector<double> a(12, 0.0), b(12, 0.0);
    const auto unit = make_compressor("threshold:lambda=0.8");
    unit->decode_add(unit->encode(std::span<const double>(scaled_input), layout, {}), layout, {},
                     std::span<double>(a), gamma);
    const auto scaled = make_compressor("threshold:lambda=" + std::to_string(0.8 * gamma));
    scaled->decode(scaled->encode(std::span<const double>(p), layout, {}), layout, {},
                   std::span<double>(b));
    EXPECT_LE(relative_error(a, b), kTolerance) << gamma;
  }
}

TEST(Reductions, R8SynchronizedLinearVariantsEqualTheirServerCounterparts) {
  const Quadratics problem(4, kSteps, 0.5);
  const auto ef = run(problem, {"ef", "rbgs:ratio=4"}, kSteps, constant_rate).models;
  const auto ef_sync = run(problem, {"ef-sync", "rbgs:ratio=4"}, kSteps, constant_rate).models;
  EXPECT_LE(worst_difference(ef_sync, ef), kTolerance);
  const std::string linear = "randk:ratio=0.5,unbiased=true,shared=true";
  const auto dqsgd = run(problem, {"dqsgd", "identity", linear}, kSteps, constant_rate).models;
  const auto sync = run(problem, {"dqsgd-sync", "identity", linear}, kSteps, constant_rate).models;
  EXPECT_LE(worst_difference(sync, dqsgd), kTolerance);
}

TEST(Reductions, R9DianaWithIdentityAndAlphaOneIsSgd) {
  const Quadratics problem(4, kSteps, 0.5);
  const auto sgd = run(problem, {"sgd", "identity"}, kSteps, constant_rate).models;
  double worst_shift = 0;
  const auto diana =
      run(problem, {"diana:alpha=1", "identity", "identity"}, kSteps, constant_rate,
          [&](std::size_t, Algorithm<double>& a, const auto& g) {
            // h_{t+1}^i = g_t^i
            for (std::size_t i = 0; i < 4; ++i) {
              worst_shift = std::max(worst_shift,
                                     relative_error(state_of(a, "h/" + std::to_string(i)), g[i]));
            }
          })
          .models;
  EXPECT_LE(worst_difference(diana, sgd), kTolerance);
  EXPECT_LE(worst_shift, kTolerance);
}

TEST(Reductions, R10HeavyBallOnTheMeanEqualsLocalBuffers) {
  const Quadratics problem(4, kSteps, 0.5);
  const double mu = 0.9;
  const auto sgdm = run(problem, {"sgdm:momentum=0.9", "identity"}, kSteps, constant_rate).models;
  // The hand loop: every worker keeps m_i = μ m_i + g_i, the replicas apply mean m_i.
  std::vector<std::vector<double>> m(4, std::vector<double>(problem.dim, 0.0));
  std::vector<double> x(problem.dim, 0.0);
  std::vector<std::vector<double>> models{x};
  for (std::size_t t = 0; t < kSteps; ++t) {
    std::vector<double> mean(problem.dim, 0.0);
    for (std::size_t i = 0; i < 4; ++i) {
      const auto g = problem.stochastic_gradient(t, i, x);
      for (std::size_t j = 0; j < problem.dim; ++j) {
        m[i][j] = mu * m[i][j] + g[j];
        mean[j] += m[i][j] / 4;
      }
    }
    for (std::size_t j = 0; j < problem.dim; ++j) x[j] -= constant_rate(t) * mean[j];
    models.push_back(x);
  }
  EXPECT_LE(worst_difference(sgdm, models), kTolerance);
}

TEST(Reductions, R11EfGdStarStaysAtTheOptimum) {
  // σ = 0: at x_0 = x* every shifted gradient is zero, so nothing moves, exactly.
  const Quadratics problem(4, kSteps, 0.0);
  const auto star = problem.optimum();
  const auto runs = run(problem, {"ef-gdstar", "topk:k=2"}, kSteps, constant_rate, {}, 9, star);
  EXPECT_LE(relative_error(runs.models.back(), star), 1e-15);
  // (1/n)Σ_i(∇f_i(x) − ∇f_i(x*)) = ∇f(x).
  const auto x = gaussian_vector<double>(12, 4);
  std::vector<double> shifted(12, 0.0), full(12, 0.0);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto g = problem.local_gradient(i, x);
    const auto h = problem.local_gradient(i, star);
    for (std::size_t j = 0; j < 12; ++j) {
      shifted[j] += (g[j] - h[j]) / 4;
      full[j] += g[j] / 4;
    }
  }
  EXPECT_LE(relative_error(shifted, full), kTolerance);
}

}  // namespace
}  // namespace gradcomp::testing
