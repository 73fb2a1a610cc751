#include "gradcomp/model/optimum.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "gradcomp/core/fnv_hash.hpp"
#include "gradcomp/core/npy.hpp"

namespace gradcomp {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::uint64_t key_of(const Objective<double>& objective, const Dataset& d) {
  const double smoothness = objective.smoothness();  // l2 = -1 resolves through it
  const std::uint64_t contents = d.content_hash();
  return FnvHash()
      .add_text(objective.name())
      .add_bytes(&smoothness, sizeof smoothness)
      .add_bytes(&contents, sizeof contents)
      .value();
}

struct Evaluator {
  Objective<double>& objective;
  const Dataset& data;
  std::vector<std::size_t> all;
  double operator()(const std::vector<double>& x, std::vector<double>& g) {
    return objective.loss_and_gradient(x, data, all, g);
  }
};

Optimum lbfgs(Evaluator& f, std::size_t d) {
  constexpr std::size_t kMemory = 20;
  std::vector<double> x(d, 0.0), g(d), next(d), next_g(d), direction(d);
  double value = f(x, g);
  const double tolerance = 1e-10 * std::max(1.0, std::sqrt(dot(g, g)));
  std::deque<std::vector<double>> s_list, y_list;
  for (int iteration = 0; iteration < 5000 && std::sqrt(dot(g, g)) > tolerance; ++iteration) {
    // Two-loop recursion: direction = −H·g.
    direction = g;
    std::vector<double> alphas(s_list.size());
    for (std::size_t k = s_list.size(); k-- > 0;) {
      alphas[k] = dot(s_list[k], direction) / dot(y_list[k], s_list[k]);
      for (std::size_t i = 0; i < d; ++i) direction[i] -= alphas[k] * y_list[k][i];
    }
    if (!s_list.empty()) {
      const double gamma = dot(s_list.back(), y_list.back()) / dot(y_list.back(), y_list.back());
      for (double& v : direction) v *= gamma;
    } else {
      const double norm = std::sqrt(dot(g, g));
      for (double& v : direction) v /= std::max(norm, 1e-300);
    }
    for (std::size_t k = 0; k < s_list.size(); ++k) {
      const double beta = dot(y_list[k], direction) / dot(y_list[k], s_list[k]);
      for (std::size_t i = 0; i < d; ++i) direction[i] += s_list[k][i] * (alphas[k] - beta);
    }
    for (double& v : direction) v = -v;
    double slope = dot(g, direction);
    if (slope >= 0) {  // not a descent direction: restart from the gradient
      s_list.clear();
      y_list.clear();
      for (std::size_t i = 0; i < d; ++i) direction[i] = -g[i];
      slope = -dot(g, g);
    }
    double step = 1;
    double next_value = 0;
    for (int halvings = 0; halvings < 60; ++halvings, step *= 0.5) {
      for (std::size_t i = 0; i < d; ++i) next[i] = x[i] + step * direction[i];
      next_value = f(next, next_g);
      if (next_value <= value + 1e-4 * step * slope) break;
    }
    std::vector<double> s(d), y(d);
    for (std::size_t i = 0; i < d; ++i) {
      s[i] = next[i] - x[i];
      y[i] = next_g[i] - g[i];
    }
    if (dot(s, y) > 1e-300) {
      s_list.push_back(std::move(s));
      y_list.push_back(std::move(y));
      if (s_list.size() > kMemory) {
        s_list.pop_front();
        y_list.pop_front();
      }
    }
    if (next_value >= value) break;  // the line search found no decrease: converged to precision
    x.swap(next);
    g.swap(next_g);
    value = next_value;
  }
  return {x, value, std::sqrt(dot(g, g)), false};
}

}  // namespace

Optimum find_optimum(Objective<double>& objective, const Dataset& train,
                     const std::string& cache_directory) {
  const std::string stem =
      fmt::format("{}/optimum-{:016x}", cache_directory, key_of(objective, train));
  if (std::filesystem::exists(stem + ".npy") && std::filesystem::exists(stem + ".txt")) {
    const NpyArray array = read_npy(stem + ".npy");
    if (array.is_double() && array.size() == objective.layout().total_size()) {
      Optimum cached;
      cached.x = std::get<std::vector<double>>(array.data);
      std::ifstream in(stem + ".txt");
      in >> cached.value >> cached.gradient_norm;
      cached.cached = true;
      return cached;
    }
  }
  Evaluator f{objective, train, std::vector<std::size_t>(train.samples)};
  std::iota(f.all.begin(), f.all.end(), 0);
  Optimum found = lbfgs(f, objective.layout().total_size());
  std::error_code ignored;
  std::filesystem::create_directories(cache_directory, ignored);
  if (!ignored) {
    write_npy(stem + ".npy", found.x, {found.x.size()});
    write_file_atomically(stem + ".txt",
                          fmt::format("{:.17g} {:.17g}\n", found.value, found.gradient_norm));
  }
  return found;
}

}  // namespace gradcomp
