// Two algorithms whose training runs are unstable on our small networks (docs/reproduction.md,
// s000-def and s002-blocksign), each checked step for step against its paper's update written out
// here, independently of the library's kernels, exchange and compressors: [BlockEF] Alg 4 with
// App A's weight decay and a blockwise scaled sign computed in this file, and [DEF]'s EF
// (κ = 0) and DEF with local momentum, weight decay at the detached point and a Top-k computed
// here. Heterogeneous noisy quadratics, 4 workers, a step size that changes every step, 30 steps,
// double precision: model, errors and momenta agree to 1e-12 relative.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "quadratics.hpp"

namespace gradcomp::testing {
namespace {

constexpr double kTolerance = 1e-12;
constexpr std::size_t kSteps = 30;
constexpr std::size_t kWorkers = 4;

using Vector = std::vector<double>;

// C_B of [BlockEF] §3.2 on the quadratics' two layers (coordinates 0–5 and 6–11): per block,
// (‖v_b‖₁/d_b)·sign(v_b) with sign(0) = +1.
Vector block_sign(const Vector& v) {
  Vector out(v.size());
  for (const std::size_t begin : {0U, 6U}) {
    double l1 = 0;
    for (std::size_t j = begin; j < begin + 6; ++j) l1 += std::abs(v[j]);
    for (std::size_t j = begin; j < begin + 6; ++j) out[j] = (v[j] >= 0 ? l1 : -l1) / 6;
  }
  return out;
}

// The k largest magnitudes of v, the rest zero.
Vector top_k(const Vector& v, std::size_t k) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::abs(v[a]) > std::abs(v[b]); });
  Vector out(v.size(), 0.0);
  for (std::size_t r = 0; r < k; ++r) out[order[r]] = v[order[r]];
  return out;
}

Vector worker_buffer(Algorithm<double>& a, const std::string& name, std::size_t i) {
  return state_of(a, name + "/" + std::to_string(i));
}

// [BlockEF] Alg 4 + App A: worker m_i ← μm_i + g_i, p_i = μm_i + g_i + r_t e_i, Δ_i = C_B(p_i),
// e_i ← p_i − Δ_i; server p̃ = (1/n)ΣΔ_i + r_t ẽ, Δ̃ = C_B(p̃), ẽ ← p̃ − Δ̃; every worker
// m̃ ← μm̃ + β x, x ← x − γ_t(Δ̃ + μm̃ + βx); r_t = γ_{t−1}/γ_t, r_0 = 0. And the two variants of
// docs/algorithms.md §3.10: heavy ball (p_i = m_i + r_t e_i, x ← x − γ_t(Δ̃ + m̃)) and the
// momentum of the server's answer (p_i = g_i + r_t e_i, M ← μM + Δ̃, Δ̃ replaced by μM + Δ̃, or
// by M for heavy ball).
void check_dist_ef_blocksgdm(bool nesterov, bool momentum_of_update) {
  const Quadratics problem(kWorkers, kSteps, 0.3);
  const double mu = 0.9;
  const double wd = 0.01;
  Vector x(problem.dim, 0.0), server_error(problem.dim, 0.0), decay_momentum(problem.dim, 0.0);
  Vector update_momentum(problem.dim, 0.0);
  std::vector<Vector> e(kWorkers, Vector(problem.dim, 0.0)), m = e;
  double worst = 0;
  const std::string spec =
      fmt::format("dist-ef-blocksgdm:momentum=0.9,wd=0.01,kind={},momentum_of={}",
                  nesterov ? "nesterov" : "heavy-ball", momentum_of_update ? "update" : "gradient");
  run(problem, {spec, "identity"}, kSteps, varying_rate,
      [&](std::size_t t, Algorithm<double>& a, const auto&) {
        const double gamma = varying_rate(t);
        const double r = t == 0 ? 0.0 : varying_rate(t - 1) / gamma;
        Vector mean_sent(problem.dim, 0.0);
        for (std::size_t i = 0; i < kWorkers; ++i) {
          const Vector g = problem.stochastic_gradient(t, i, x);
          Vector p(problem.dim);
          for (std::size_t j = 0; j < problem.dim; ++j) {
            if (momentum_of_update) {
              p[j] = g[j] + r * e[i][j];
              continue;
            }
            m[i][j] = mu * m[i][j] + g[j];
            p[j] = (nesterov ? mu * m[i][j] + g[j] : m[i][j]) + r * e[i][j];
          }
          const Vector sent = block_sign(p);
          for (std::size_t j = 0; j < problem.dim; ++j) {
            e[i][j] = p[j] - sent[j];
            mean_sent[j] += sent[j] / kWorkers;
          }
        }
        Vector server_p(problem.dim);
        for (std::size_t j = 0; j < problem.dim; ++j) {
          server_p[j] = mean_sent[j] + r * server_error[j];
        }
        const Vector answer = block_sign(server_p);
        for (std::size_t j = 0; j < problem.dim; ++j) {
          server_error[j] = server_p[j] - answer[j];
          decay_momentum[j] = mu * decay_momentum[j] + wd * x[j];
          const double decay = nesterov ? mu * decay_momentum[j] + wd * x[j] : decay_momentum[j];
          double direction = answer[j];
          if (momentum_of_update) {
            update_momentum[j] = mu * update_momentum[j] + answer[j];
            direction = nesterov ? mu * update_momentum[j] + answer[j] : update_momentum[j];
          }
          x[j] -= gamma * (direction + decay);
        }
        worst = std::max({worst, relative_error(state_of(a, "x"), x),
                          relative_error(state_of(a, "server/e"), server_error),
                          relative_error(state_of(a, "mwd"), decay_momentum)});
        if (momentum_of_update)
          worst = std::max(worst, relative_error(state_of(a, "m"), update_momentum));
        for (std::size_t i = 0; i < kWorkers; ++i) {
          worst = std::max(worst, relative_error(worker_buffer(a, "e", i), e[i]));
          if (!momentum_of_update) {
            worst = std::max(worst, relative_error(worker_buffer(a, "m", i), m[i]));
          }
        }
      });
  EXPECT_LE(worst, kTolerance) << spec;
}

TEST(WrittenOut, DistEfBlockSgdmIsBlockEfAlgorithmFourWithAppendixAWeightDecay) {
  check_dist_ef_blocksgdm(true, false);
}

TEST(WrittenOut, DistEfBlockSgdmHeavyBallAndMomentumOfTheUpdate) {
  check_dist_ef_blocksgdm(false, false);
  check_dist_ef_blocksgdm(true, true);
  check_dist_ef_blocksgdm(false, true);
}

// [DEF] Alg 1 with eq. 11's local momentum and the authors' code (docs/algorithms.md §3.6 i–ii):
// z_i = x − κe_i, m_i ← μm_i + (g_i(z_i) + βz_i), p_i = γ_t m_i + e_i, e_i ← p_i − C(p_i),
// x ← x − (1/n)ΣC(p_i); e is not rescaled when γ changes. κ = 0 is [DEF]'s EF baseline.
void check_def(double kappa) {
  const Quadratics problem(kWorkers, kSteps, 0.3);
  const double mu = 0.9;
  const double wd = 0.01;
  Vector x(problem.dim, 0.0);
  std::vector<Vector> e(kWorkers, Vector(problem.dim, 0.0)), m = e;
  double worst = 0;
  const std::string spec = fmt::format("def-a:kappa={},momentum=0.9,wd=0.01", kappa);
  run(problem, {spec, "topk:k=3"}, kSteps, varying_rate,
      [&](std::size_t t, Algorithm<double>& a, const auto&) {
        const double gamma = varying_rate(t);
        Vector mean_sent(problem.dim, 0.0);
        for (std::size_t i = 0; i < kWorkers; ++i) {
          Vector z(problem.dim);
          for (std::size_t j = 0; j < problem.dim; ++j) z[j] = x[j] - kappa * e[i][j];
          const Vector g = problem.stochastic_gradient(t, i, z);
          Vector p(problem.dim);
          for (std::size_t j = 0; j < problem.dim; ++j) {
            m[i][j] = mu * m[i][j] + (g[j] + wd * z[j]);
            p[j] = gamma * m[i][j] + e[i][j];
          }
          const Vector sent = top_k(p, 3);
          for (std::size_t j = 0; j < problem.dim; ++j) {
            e[i][j] = p[j] - sent[j];
            mean_sent[j] += sent[j] / kWorkers;
          }
        }
        for (std::size_t j = 0; j < problem.dim; ++j) x[j] -= mean_sent[j];
        worst = std::max(worst, relative_error(state_of(a, "x"), x));
        for (std::size_t i = 0; i < kWorkers; ++i) {
          worst = std::max({worst, relative_error(worker_buffer(a, "e", i), e[i]),
                            relative_error(worker_buffer(a, "m", i), m[i])});
        }
      });
  EXPECT_LE(worst, kTolerance) << "kappa " << kappa;
}

TEST(WrittenOut, DefsEfBaselineAndDefAreDefAlgorithmOneWithLocalMomentum) {
  check_def(0.0);
  check_def(0.3);
}

}  // namespace
}  // namespace gradcomp::testing
