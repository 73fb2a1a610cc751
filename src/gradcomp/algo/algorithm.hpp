#pragma once
// Algorithm: the distributed optimizer of one step (docs/architecture.md, the boxes around the
// exchange). It says where each worker's gradient is evaluated (query_point), what each worker
// compresses, which exchange pattern carries it, how the aggregate updates the model and the
// algorithm's own state (step), and which model is evaluated and output (evaluated_model).
//
// One object per process: it holds the state of the workers this process hosts (errors e_i,
// momenta m_i, shifts h_i), the replicated model x and, on the rank hosting it, the server's state.
// Every call except query_point and model is collective under `mpi`: all ranks call it.
//
// Why not prepare / apply around one exchange: several algorithms
// exchange twice per step (ef-bc, ec-sgd-diana) or answer through a server with its own state
// (dist-EF-SGD), so an algorithm runs its whole step itself, using the exchange it was given.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/algo/gradient_source.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/exchange/exchange.hpp"

namespace gradcomp {

// What the user chose: the algorithm's spec and the compressors it uses.
struct AlgorithmChoice {
  std::string algorithm = "sgd";        // "def:kappa=0.3,momentum=0.9"
  std::string compressor = "identity";  // C: the workers' compressor (and the server's, two-way)
  std::string quantizer = "qsgd:levels=4";  // Q_ω of diana, ef-bc, ec-sgd-diana
};

template <class T>
struct AlgorithmSetup {
  Exchange& exchange;
  const Layout& layout;
  std::uint64_t seed = 0;
  AlgorithmChoice choice;
};

// The step sizes an algorithm sees at step t: γ_t and γ_{t−1} (γ_{−1} = 0), so that error
// rescaling by γ_{t−1}/γ_t uses the real schedule (docs/algorithms.md §3.8).
struct StepRates {
  std::uint64_t step = 0;
  double gamma = 0;
  double previous_gamma = 0;
};

// Per-step diagnostics (docs/algorithms.md §4.4, [HardThreshold]'s total error). NaN where an
// algorithm has no such quantity (no error buffer, no server).
struct Diagnostics {
  double mean_error_norm2 = std::numeric_limits<double>::quiet_NaN();     // (1/n)Σ‖e_i‖²
  double error_of_mean_norm2 = std::numeric_limits<double>::quiet_NaN();  // ‖ē‖²
  double def_distance = std::numeric_limits<double>::quiet_NaN();  // (1/n)Σ‖ē − κe_i‖²
  double kappa = std::numeric_limits<double>::quiet_NaN();         // the κ it was taken at
  double kappa_star = std::numeric_limits<double>::quiet_NaN();  // ‖ē‖²/(‖ē‖² + Var), eq. (32)
  double server_error_norm2 = std::numeric_limits<double>::quiet_NaN();  // ‖ẽ‖²
  double density = std::numeric_limits<double>::quiet_NaN();      // kept coordinates / d, last step
  double total_error = std::numeric_limits<double>::quiet_NaN();  // Σ_t (1/n)Σ_i‖e_t^i‖²
};

// A named piece of state (for checkpoints and for the identity tests): "x", "e/3" (worker 3's
// error), "m/3", "h/3", "h", "server/e", ...
template <class T>
struct StateBuffer {
  std::string name;
  std::span<T> data;
};

template <class T>
class Algorithm {
 public:
  virtual ~Algorithm() = default;
  Algorithm() = default;
  Algorithm(const Algorithm&) = delete;
  Algorithm& operator=(const Algorithm&) = delete;

  // The canonical spec ("def:kappa=0.3,momentum=0.9,wd=0") and its section of docs/algorithms.md.
  [[nodiscard]] virtual const std::string& spec() const = 0;

  // Sets x_0 (identical on every rank) and clears every state. Called before the first step.
  virtual void start(std::span<const T> x0) = 0;
  // Where local worker j (0 ≤ j < workers this rank hosts) evaluates its gradient this step.
  [[nodiscard]] virtual std::span<const T> query_point(std::size_t local_worker) const = 0;
  // One step: gradients[j] is local worker j's stochastic gradient at query_point(j).
  virtual void step(const std::vector<std::span<const T>>& gradients, const StepRates& rates) = 0;
  // Algorithms that can ask for each worker's gradient inside that worker's own task of the step
  // (algo/gradient_source.hpp) answer true; step_computing then does what step does, with the
  // same bits, taking the gradients from `source` (where the model can, at a point the algorithm
  // does not store).
  [[nodiscard]] virtual bool computes_gradients() const { return false; }
  virtual void step_computing(GradientSource<T>& /*source*/, const StepRates& /*rates*/) {
    throw InternalError(fmt::format("{} cannot compute its workers' gradients itself", spec()));
  }
  // x_t, the synchronized model.
  [[nodiscard]] virtual std::span<const T> model() const = 0;
  // The model to evaluate and output (docs/algorithms.md §3.19): x_t for most, y_t = x_t − ē_t for
  // DEF, worker 0's local model for PSync. Collective: DEF all-reduces the errors.
  virtual void evaluated_model(std::span<T> out) = 0;
  // Collective: the diagnostics of the last step.
  virtual Diagnostics diagnostics() = 0;
  // The exchanges of the last step (two for ef-bc and ec-sgd-diana), for bits and network time.
  [[nodiscard]] virtual std::span<const StepTraffic> traffic() const = 0;
  // Every state buffer this rank holds, named (server state only on the server's rank).
  virtual std::vector<StateBuffer<T>> state() = 0;
  // Running totals behind the diagnostics (this rank's part of the total error), for checkpoints.
  [[nodiscard]] virtual std::vector<double> totals() const = 0;
  virtual void restore_totals(std::span<const double> totals) = 0;
  // Called after state() buffers were overwritten (a checkpoint restored): recompute whatever is
  // derived from them (DEF's detached points).
  virtual void restored() {}
  // EF-GDstar only: worker j's full local gradient at the optimum, ∇f_j(x*) (docs/algorithms.md
  // §3.17).
  virtual void set_optimum_gradient(std::size_t /*local_worker*/, std::span<const T> /*gradient*/) {
  }
  [[nodiscard]] virtual bool needs_optimum_gradients() const { return false; }
};

}  // namespace gradcomp
