#pragma once
// The workers' box of a training step in `gradcomp train`: each worker this process hosts
// computes its stochastic gradient at its query point of the coming step, on its own batch
// (train/batches.hpp). Models with running statistics (BatchNorm) start every worker's forward
// pass from the step's common statistics and leave their mean over all workers: the mean over
// this process's workers (Objective::end_step), then over ranks (docs/algorithms.md "BatchNorm
// statistics"). In PyTorch training, autograd is this box; the Stepper that follows is shared.
#include <span>
#include <vector>

#include "gradcomp/algo/stepper.hpp"
#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/comm/worker_pool.hpp"
#include "gradcomp/data/dataset.hpp"
#include "gradcomp/model/objective.hpp"
#include "gradcomp/train/batches.hpp"

namespace gradcomp {

template <class T>
class WorkerGradients final : public GradientSource<T> {
 public:
  // `pool` computes the workers' gradients concurrently when the objective allows it
  // (Objective::concurrent_gradients); the result does not depend on its size.
  WorkerGradients(Objective<T>& objective, const Dataset& train, Batches& batches,
                  const WorkerGroup& group, Communicator& communicator, WorkerPool& pool);

  // The hosted workers' gradients for step stepper.next_step(), in worker order (valid until the
  // next call), each checked by stepper.check_gradient (Diverged naming the lowest bad worker).
  // Collective under mpi when the model has running statistics.
  const std::vector<std::span<const T>>& compute(const Stepper<T>& stepper);
  // Step stepper.next_step() of `stepper`: where the algorithm computes_gradients() and the
  // objective's gradients may run concurrently, the algorithm asks for each in its worker's task
  // (Stepper::step_computing, this being the source); otherwise compute() then step_checked.
  // The same bits either way.
  void step(Stepper<T>& stepper);
  // GradientSource: worker j's gradient of the step being taken, checked by
  // stepper.check_gradient. Only inside step().
  std::span<const T> gradient_at(std::size_t local_worker, const DetachedPoint<T>& point) override;
  bool detached_input_at(std::size_t local_worker, const DetachedPoint<T>& point, T w, T s,
                         std::span<T> e) override;

 private:
  // The objective's begin_step and each worker's batch of step t.
  void begin_step(std::uint64_t t);
  // The objective's end_step and the statistics' mean over ranks.
  void end_step();
  // The batch worker j's task may fetch for the next task on its thread: worker j + 1's, when that
  // runs next on the same thread (pooled: the pool's tasks, of which j + 1 may begin a share).
  [[nodiscard]] std::span<const std::size_t> upcoming(std::size_t j, bool pooled) const;
  void average_statistics_over_ranks();

  Objective<T>& objective_;
  const Dataset& train_;
  Batches& batches_;
  WorkerGroup group_;
  Communicator& communicator_;
  WorkerPool& pool_;
  std::vector<std::vector<T>> gradients_;
  std::vector<std::span<const T>> views_;
  std::vector<std::span<const std::size_t>> samples_;  // this step's batch of each worker
  const Stepper<T>* stepper_ = nullptr;                // inside step() only
};

extern template class WorkerGradients<float>;
extern template class WorkerGradients<double>;

}  // namespace gradcomp
