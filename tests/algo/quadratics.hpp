#pragma once
// The test problem of docs/algorithms.md §4.0: heterogeneous quadratics
//   f_i(x) = ½ Σ_j a_ij x_j² − b_iᵀx,  ∇f_i(x) = a_i ⊙ x − b_i,
// plus a pre-generated noise table ξ[t][i] so that several algorithms can be fed identical
// stochastic gradients at whatever points they query. Double precision.
// run() drives an algorithm through the local exchange and calls observe(t, algorithm, gradients)
// after every step, with the gradients it fed.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "test_support.hpp"

namespace gradcomp::testing {

struct Quadratics {
  std::size_t workers = 4;
  std::size_t dim = 12;
  std::vector<std::vector<double>> a, b;
  std::vector<std::vector<std::vector<double>>> noise;  // [t][i][j]

  // identical: every worker holds worker 0's function (only the noise differs).
  Quadratics(std::size_t n, std::size_t steps, double sigma, std::uint64_t seed = 5,
             double spread = 1.0, bool identical = false)
      : workers(n) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto data = static_cast<std::uint32_t>(identical ? 0 : i);
      auto u = gaussian_vector<double>(dim, seed, 3 * data);
      auto v = gaussian_vector<double>(dim, seed, 3 * data + 1);
      std::vector<double> ai(dim), bi(dim);
      for (std::size_t j = 0; j < dim; ++j) {
        ai[j] = 0.5 + 0.25 * std::abs(u[j]) + 0.1 * static_cast<double>(j % 4);
        bi[j] = spread * v[j];
      }
      a.push_back(ai);
      b.push_back(bi);
    }
    for (std::size_t t = 0; t < steps; ++t) {
      noise.emplace_back();
      for (std::size_t i = 0; i < n; ++i) {
        auto xi = gaussian_vector<double>(dim, seed + 1000 + t, static_cast<std::uint32_t>(i));
        for (double& v : xi) v *= sigma;
        noise.back().push_back(xi);
      }
    }
  }

  [[nodiscard]] std::vector<double> local_gradient(std::size_t i, std::span<const double> x) const {
    std::vector<double> g(dim);
    for (std::size_t j = 0; j < dim; ++j) g[j] = a[i][j] * x[j] - b[i][j];
    return g;
  }
  [[nodiscard]] std::vector<double> stochastic_gradient(std::size_t t, std::size_t i,
                                                        std::span<const double> x) const {
    auto g = local_gradient(i, x);
    for (std::size_t j = 0; j < dim; ++j) g[j] += noise[t][i][j];
    return g;
  }
  [[nodiscard]] std::vector<double> optimum() const {
    std::vector<double> x(dim);
    for (std::size_t j = 0; j < dim; ++j) {
      double sa = 0, sb = 0;
      for (std::size_t i = 0; i < workers; ++i) {
        sa += a[i][j];
        sb += b[i][j];
      }
      x[j] = sb / sa;
    }
    return x;
  }
  [[nodiscard]] double objective(std::span<const double> x) const {
    double f = 0;
    for (std::size_t i = 0; i < workers; ++i) {
      for (std::size_t j = 0; j < dim; ++j) f += (0.5 * a[i][j] * x[j] * x[j] - b[i][j] * x[j]);
    }
    return f / static_cast<double>(workers);
  }
  [[nodiscard]] double suboptimality(std::span<const double> x) const {
    return objective(x) - objective(optimum());
  }
};

// Layers of the test model: 12 = 3×2 matrix + 6-vector (layer-wise compressors see two blocks).
inline Layout quadratics_layout() {
  return Layout::from_shapes({{3, 2}, {6}});
}

using Observer = std::function<void(std::size_t t, Algorithm<double>& algorithm,
                                    const std::vector<std::vector<double>>& gradients)>;
using RateFunction = std::function<double(std::size_t t)>;

struct RunResult {
  std::vector<std::vector<double>> models;     // x_0 .. x_T
  std::vector<std::vector<double>> evaluated;  // evaluated_model after each step (1..T)
};

// Runs the workers the exchange's process hosts (all of them under `local`).
inline RunResult run_with(Exchange& exchange, const Quadratics& problem,
                          const AlgorithmChoice& choice, std::size_t steps,
                          const RateFunction& rate, const Observer& observe = {},
                          std::uint64_t seed = 9, std::vector<double> x0 = {}) {
  const WorkerGroup& group = exchange.workers();
  const Layout layout = quadratics_layout();
  auto algorithm = make_algorithm<double>({exchange, layout, seed, choice});
  if (x0.empty()) x0.assign(problem.dim, 0.0);
  algorithm->start(x0);
  if (algorithm->needs_optimum_gradients()) {
    const auto star = problem.optimum();
    for (std::size_t j = 0; j < group.count; ++j) {
      algorithm->set_optimum_gradient(j, problem.local_gradient(group.first + j, star));
    }
  }
  RunResult result;
  result.models.emplace_back(algorithm->model().begin(), algorithm->model().end());
  std::vector<double> evaluated(problem.dim);
  for (std::size_t t = 0; t < steps; ++t) {
    std::vector<std::vector<double>> gradients;
    for (std::size_t j = 0; j < group.count; ++j) {
      gradients.push_back(
          problem.stochastic_gradient(t, group.first + j, algorithm->query_point(j)));
    }
    std::vector<std::span<const double>> views(gradients.begin(), gradients.end());
    algorithm->step(views, {t, rate(t), t == 0 ? 0.0 : rate(t - 1)});
    result.models.emplace_back(algorithm->model().begin(), algorithm->model().end());
    algorithm->evaluated_model(evaluated);
    result.evaluated.push_back(evaluated);
    if (observe) observe(t, *algorithm, gradients);
  }
  return result;
}

inline RunResult run(const Quadratics& problem, const AlgorithmChoice& choice, std::size_t steps,
                     const RateFunction& rate, const Observer& observe = {}, std::uint64_t seed = 9,
                     std::vector<double> x0 = {}) {
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(problem.workers, local));
  return run_with(exchange, problem, choice, steps, rate, observe, seed, std::move(x0));
}

// The named state buffer, copied.
inline std::vector<double> state_of(Algorithm<double>& algorithm, const std::string& name) {
  for (const auto& buffer : algorithm.state()) {
    if (buffer.name == name) return {buffer.data.begin(), buffer.data.end()};
  }
  ADD_FAILURE() << "no state buffer " << name;
  return {};
}

// Mean over workers of the named per-worker buffers ("e" → (1/n)Σ e/i).
inline std::vector<double> worker_mean(Algorithm<double>& algorithm, const std::string& prefix,
                                       std::size_t workers) {
  std::vector<double> mean;
  for (std::size_t i = 0; i < workers; ++i) {
    const auto v = state_of(algorithm, prefix + "/" + std::to_string(i));
    if (mean.empty()) mean.assign(v.size(), 0.0);
    for (std::size_t j = 0; j < v.size(); ++j) mean[j] += v[j] / static_cast<double>(workers);
  }
  return mean;
}

inline double relative_error(std::span<const double> a, std::span<const double> b) {
  double diff = 0, norm = 0;
  for (std::size_t j = 0; j < a.size(); ++j) {
    diff += (a[j] - b[j]) * (a[j] - b[j]);
    norm += b[j] * b[j];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

// Every (algorithm, pattern) pair the registry offers (`gradcomp list`): each choice of an
// algorithm's "pattern" parameter, or its one fixed pattern. Allreduce gets a linear compressor
// (rbgs), the other patterns a sparsifier; the quantizer is linear and unbiased, so it serves
// every pattern.
struct OfferedCase {
  AlgorithmChoice choice;
  std::string pattern;  // the choice made, or "" for a fixed pattern
};
inline std::vector<OfferedCase> offered_pattern_cases() {
  std::vector<OfferedCase> cases;
  const std::string quantizer = "randk:ratio=0.5,unbiased=true,shared=true";
  for (const auto& entry : algorithm_entries()) {
    std::vector<std::string> patterns{""};
    for (const auto& param : entry.params) {
      if (param.name == "pattern") patterns = param.choices;
    }
    for (const auto& pattern : patterns) {
      const bool linear = pattern == "allreduce" || entry.name.ends_with("-sync");
      const std::string algorithm =
          pattern.empty() ? entry.name : entry.name + ":pattern=" + pattern;
      cases.push_back({{algorithm, linear ? "rbgs:ratio=4" : "topk:k=3", quantizer}, pattern});
    }
  }
  return cases;
}

// A step-size sequence that changes every step (exercises γ_{t−1}/γ_t rescaling).
inline double varying_rate(std::size_t t) {
  return 0.05 * (1.0 + 0.5 * std::sin(0.7 * static_cast<double>(t)));
}
inline double constant_rate(std::size_t) {
  return 0.05;
}

}  // namespace gradcomp::testing
