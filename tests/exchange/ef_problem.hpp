#pragma once
// A small heterogeneous least-squares problem driven through an Exchange, so the same run can be
// made on any layout of workers over processes and compared (tests/exchange, tests/mpi).
// Worker i holds A_i (rows × d) and b_i; f_i(x) = ‖A_i x − b_i‖² / (2·rows). Each pattern runs the
// loop it is made for:
//   allreduce, allgather  EF-SGD: p_i = g_i + e_i, Δ_i = C(p_i), e_i = p_i − decode(Δ_i),
//                         x ← x − γ·(1/n)Σ_i decode(Δ_i)
//   vote                  signSGD-MV: Δ_i = sign(g_i), x ← x − γ·sign(Σ_i sign(g_i))
//   server                dist-EF-SGD with the same compressor at the server (docs/algorithms.md
//   §3.8,
//                         constant γ): the server keeps ẽ and answers C((1/n)ΣΔ_i + ẽ).
#include <memory>
#include <string>
#include <vector>

#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/exchange.hpp"
#include "test_support.hpp"

namespace gradcomp::testing {

inline Layout ef_problem_layout() {
  return Layout::from_shapes({{6, 5}, {6}, {4}});
}

template <class T>
class EfProblem {
 public:
  static constexpr std::size_t kRows = 12;

  EfProblem(std::size_t workers, std::uint64_t seed) : layout_(ef_problem_layout()) {
    const std::size_t d = layout_.total_size();
    for (std::size_t i = 0; i < workers; ++i) {
      // Worker-dependent shift of the targets: heterogeneous data, as in [Heterogeneous].
      auto a = gaussian_vector<double>(kRows * d, seed, static_cast<std::uint32_t>(2 * i));
      auto b = gaussian_vector<double>(kRows, seed, static_cast<std::uint32_t>(2 * i + 1));
      for (double& v : b) v += static_cast<double>(i);
      a_.push_back(std::move(a));
      b_.push_back(std::move(b));
    }
  }

  [[nodiscard]] const Layout& layout() const { return layout_; }

  void gradient(std::size_t worker, std::span<const T> x, std::span<T> g) const {
    const std::size_t d = layout_.total_size();
    std::vector<double> sum(d, 0.0);
    for (std::size_t r = 0; r < kRows; ++r) {
      double residual = -b_[worker][r];
      for (std::size_t j = 0; j < d; ++j) {
        residual += a_[worker][r * d + j] * static_cast<double>(x[j]);
      }
      for (std::size_t j = 0; j < d; ++j) sum[j] += a_[worker][r * d + j] * residual;
    }
    for (std::size_t j = 0; j < d; ++j) g[j] = static_cast<T>(sum[j] / kRows);
  }

 private:
  Layout layout_;
  std::vector<std::vector<double>> a_;
  std::vector<std::vector<double>> b_;
};

// dist-EF-SGD's server (constant step size): p̃ = aggregate + ẽ, answer C(p̃), ẽ = p̃ − decode.
template <class T>
class ErrorFeedbackServer final : public ServerRole<T> {
 public:
  ErrorFeedbackServer(const std::string& spec, const Layout& layout)
      : compressor_(make_compressor(spec)), layout_(layout), error_(layout.total_size(), T{0}) {}

  [[nodiscard]] const Compressor& answer_codec() const override { return *compressor_; }

  const Message& answer(std::span<const T> aggregate, const StepContext& context) override {
    std::vector<T> p(aggregate.begin(), aggregate.end());
    for (std::size_t j = 0; j < p.size(); ++j) p[j] += error_[j];
    compressor_->encode(std::span<const T>(p), layout_, context, answer_);
    std::vector<T> sent(p.size(), T{0});
    compressor_->decode(answer_, layout_, context, std::span<T>(sent));
    for (std::size_t j = 0; j < p.size(); ++j) error_[j] = p[j] - sent[j];
    return answer_;
  }

 private:
  std::unique_ptr<Compressor> compressor_;
  const Layout& layout_;
  std::vector<T> error_;
  Message answer_;
};

// Runs `steps` of the pattern's loop and returns the final model (the same on every rank).
// Also records the traffic of the last step.
template <class T>
std::vector<T> run_ef_problem(Exchange& exchange, Pattern pattern, const std::string& spec,
                              std::size_t steps, std::uint64_t seed = 7, T step_size = T(0.05)) {
  const WorkerGroup& group = exchange.workers();
  const EfProblem<T> problem(group.total, 11);
  const Layout& layout = problem.layout();
  const std::size_t d = layout.total_size();
  std::vector<std::unique_ptr<Compressor>> compressors;
  for (std::size_t j = 0; j < group.count; ++j) compressors.push_back(make_compressor(spec));
  const auto decoder = make_compressor(spec);
  ErrorFeedbackServer<T> server(spec, layout);
  std::vector<std::vector<T>> errors(group.count, std::vector<T>(d, T{0}));
  std::vector<Message> messages(group.count);
  std::vector<T> x(d, T{0});
  std::vector<T> g(d);
  std::vector<T> p(d);
  std::vector<T> aggregate(d);
  const T mean = T{1} / static_cast<T>(group.total);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t j = 0; j < group.count; ++j) {
      const std::size_t worker = group.first + j;
      const StepContext context{seed, t, static_cast<std::uint32_t>(worker)};
      problem.gradient(worker, x, g);
      const bool feedback = pattern != Pattern::kMajorityVote;
      for (std::size_t i = 0; i < d; ++i) p[i] = feedback ? g[i] + errors[j][i] : g[i];
      compressors[j]->encode(std::span<const T>(p), layout, context, messages[j]);
      if (feedback) {
        std::vector<T> sent(d, T{0});
        decoder->decode(messages[j], layout, context, std::span<T>(sent));
        for (std::size_t i = 0; i < d; ++i) errors[j][i] = p[i] - sent[i];
      }
    }
    const Round round{*decoder, layout, seed, t, messages};
    exchange.run<T>(pattern, round, &server, aggregate, mean);
    for (std::size_t i = 0; i < d; ++i) x[i] -= step_size * aggregate[i];
  }
  return x;
}

}  // namespace gradcomp::testing
