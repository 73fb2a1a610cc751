#pragma once
// GradientSource: the workers' gradients handed to an algorithm that computes them inside its own
// per-worker task (Algorithm::step_computing), instead of receiving all of them computed before
// the step: the gradient is used while it is in the core's cache, the step saves a round over
// the workers, and a point the algorithm would only store to be read once (DEF's detached point
// z = x − κ·e) need not be stored at all. The trainer's WorkerGradients is one.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace gradcomp {

// The point x − κ·e, element i rounded to T as x_i − κ·e_i (one rounding per operation), given
// by its parts. With no error (an empty span) the point is x itself, whatever κ.
template <class T>
struct DetachedPoint {
  std::span<const T> x;
  T kappa;
  std::span<const T> error;
};

template <class T>
class GradientSource {
 public:
  virtual ~GradientSource() = default;
  GradientSource() = default;
  GradientSource(const GradientSource&) = delete;
  GradientSource& operator=(const GradientSource&) = delete;

  // Local worker j's stochastic gradient of the coming step at `point`, the bits of the gradient
  // at the point written out; valid until the next call for j. Throws Diverged naming the step,
  // the worker and the layer if it is not finite. Safe to call for different workers at once.
  virtual std::span<const T> gradient_at(std::size_t local_worker,
                                         const DetachedPoint<T>& point) = 0;
  // DEF's worker input without the gradient written out: e ← s·(g + w·z) + e in e's storage, g
  // being gradient_at(local_worker, point) at z = x − κ·e (point.error is e itself), the bits of
  // gradient_at then ElementwiseKernels::detached_input. Returns false, touching nothing, where
  // the source cannot (the caller then takes those two steps); throws Diverged as gradient_at.
  virtual bool detached_input_at(std::size_t /*local_worker*/, const DetachedPoint<T>& /*point*/,
                                 T /*w*/, T /*s*/, std::span<T> /*e*/) {
    return false;
  }
};

// What Objective::detached_input_at did: nothing (`written` false: the objective cannot), or the
// input written, unless a gradient element was not finite (`bad`: the first, with its value; e is
// then updated only in part).
template <class T>
struct DetachedInput {
  bool written = false;
  std::optional<std::size_t> bad;
  T bad_value{};
};

// A step's gradients as an algorithm's per-worker task reads them: handed in computed
// (Algorithm::step), or computed inside the task at the model x (Algorithm::step_computing). An
// algorithm that evaluates every worker's gradient at x and reads it only in that worker's task
// writes its step once, on this, and serves both.
template <class T>
class TaskGradients {
 public:
  explicit TaskGradients(const std::vector<std::span<const T>>& computed) : computed_(&computed) {}
  TaskGradients(GradientSource<T>& source, std::span<const T> x) : source_(&source), x_(x) {}

  // Local worker j's gradient; call it once per step, from j's task.
  [[nodiscard]] std::span<const T> of(std::size_t local_worker) const {
    if (computed_ != nullptr) return (*computed_)[local_worker];
    return source_->gradient_at(local_worker, DetachedPoint<T>{x_, T{0}, {}});
  }

 private:
  const std::vector<std::span<const T>>* computed_ = nullptr;
  GradientSource<T>* source_ = nullptr;
  std::span<const T> x_;
};

}  // namespace gradcomp
