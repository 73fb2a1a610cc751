#pragma once
// Objective: what a worker differentiates (docs/architecture.md, model/). The model's parameters
// are one flat vector described by a Layout; a worker asks for the mean loss and gradient over a
// batch of its samples at a point (the algorithm's query point), and the trainer evaluates a model
// on a split. Analytic objectives (logistic, least squares, softmax) compute in double whatever T
// is; neural networks run in float through libtorch (model/torch_model.hpp).
#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/algo/algorithm.hpp"        // StateBuffer
#include "gradcomp/algo/gradient_source.hpp"  // DetachedPoint
#include "gradcomp/core/elementwise.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

struct Evaluation {
  double loss = std::numeric_limits<double>::quiet_NaN();
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // classification only
};

template <class T>
class Objective {
 public:
  virtual ~Objective() = default;
  Objective() = default;
  Objective(const Objective&) = delete;
  Objective& operator=(const Objective&) = delete;

  [[nodiscard]] virtual const std::string& name() const = 0;
  [[nodiscard]] virtual const Layout& layout() const = 0;
  // x_0: zero for the convex objectives, seeded initial weights for networks.
  virtual void initialize(std::span<T> x, std::uint64_t seed) = 0;
  // gradient = ∇ of the mean loss over `samples` of `data` at x (overwritten); returns that loss.
  virtual double loss_and_gradient(std::span<const T> x, const Dataset& data,
                                   std::span<const std::size_t> samples, std::span<T> gradient) = 0;
  // The same gradient where the loss is not wanted (a training step): an objective may skip the
  // loss's own terms (the linear models' ‖x‖², a pass over x). `upcoming` (possibly empty) are
  // the samples of `data` the next gradient on this thread reads (the next worker's batch): an
  // objective that reads them from memory may load them into the cache meanwhile. Changes no
  // result. Returns true when it has seen every element of the gradient finite as it wrote them
  // (the trainer then skips its own scan for NaN and infinity); false says nothing.
  virtual bool gradient(std::span<const T> x, const Dataset& data,
                        std::span<const std::size_t> samples, std::span<T> gradient,
                        std::span<const std::size_t> /*upcoming*/) {
    loss_and_gradient(x, data, samples, gradient);
    return false;
  }
  // gradient() at point.x − κ·point.error (an algorithm's point it does not store, such as DEF's
  // detached point; at point.x when there is no error), the same bits as gradient() at the point
  // written out — which is what this default does, in a buffer of the thread's; an objective may
  // compute the point where it reads it instead.
  virtual bool gradient_at(const DetachedPoint<T>& point, const Dataset& data,
                           std::span<const std::size_t> samples, std::span<T> gradient,
                           std::span<const std::size_t> upcoming) {
    if (point.error.empty()) return this->gradient(point.x, data, samples, gradient, upcoming);
    thread_local std::vector<T> written;
    written.resize(point.x.size());
    elementwise<T>().subtract_scaled(point.x.data(), point.kappa, point.error.data(),
                                     written.data(), written.size());
    return this->gradient(written, data, samples, gradient, upcoming);
  }
  // GradientSource::detached_input_at's work for an objective that can form the input while it
  // computes the gradient at the detached point (point.error is e); by default it cannot.
  virtual DetachedInput<T> detached_input_at(const DetachedPoint<T>& /*point*/,
                                             const Dataset& /*data*/,
                                             std::span<const std::size_t> /*samples*/, T /*w*/,
                                             T /*s*/, std::span<T> /*e*/,
                                             std::span<const std::size_t> /*upcoming*/) {
    return {};
  }
  // The mean loss (with the regulariser) and accuracy over every sample of `data`.
  virtual Evaluation evaluate(std::span<const T> x, const Dataset& data) = 0;
  // Convex objectives: smoothness L and strong convexity μ (NaN if unknown), docs/reproduction.md
  // §5.1.
  [[nodiscard]] virtual double smoothness() const {
    return std::numeric_limits<double>::quiet_NaN();
  }
  [[nodiscard]] virtual double strong_convexity() const {
    return std::numeric_limits<double>::quiet_NaN();
  }
  [[nodiscard]] virtual bool convex() const { return false; }
  // True when loss_and_gradient may run for several workers at once on different threads
  // (different x and gradient, the same data): the workers' gradients are then computed on the
  // pool of workers.threads.
  [[nodiscard]] virtual bool concurrent_gradients() const { return false; }

  // Running statistics outside the parameters (BatchNorm's running means and variances),
  // docs/algorithms.md §3.6 (vi): averaged across workers after every step. The trainer calls
  // begin_step() before the hosted workers' gradients and end_step() after them — each worker's
  // forward pass starts from the step's common statistics, end_step() leaves their mean over the
  // hosted workers — and then averages statistics() over ranks. Empty for models without them.
  virtual void begin_step() {}
  virtual void end_step() {}
  virtual std::vector<StateBuffer<T>> statistics() { return {}; }
};

}  // namespace gradcomp
