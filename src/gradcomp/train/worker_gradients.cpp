#include "gradcomp/train/worker_gradients.hpp"

#include "gradcomp/core/error.hpp"

namespace gradcomp {

template <class T>
WorkerGradients<T>::WorkerGradients(Objective<T>& objective, const Dataset& train, Batches& batches,
                                    const WorkerGroup& group, Communicator& communicator,
                                    WorkerPool& pool)
    : objective_(objective),
      train_(train),
      batches_(batches),
      group_(group),
      communicator_(communicator),
      pool_(pool),
      gradients_(group.count, std::vector<T>(objective.layout().total_size())) {
  for (const auto& g : gradients_) views_.emplace_back(g);
}

template <class T>
const std::vector<std::span<const T>>& WorkerGradients<T>::compute(const Stepper<T>& stepper) {
  begin_step(stepper.next_step());
  const bool pooled = objective_.concurrent_gradients();
  const auto one_worker = [&](std::size_t j) {
    // A gradient the objective saw finite as it wrote it needs no scan of its own.
    if (!objective_.gradient(stepper.query_point(j), train_, samples_[j], gradients_[j],
                             upcoming(j, pooled))) {
      stepper.check_gradient(j, gradients_[j]);
    }
  };
  if (pooled) {
    pool_.run(group_.count, one_worker);
  } else {
    for (std::size_t j = 0; j < group_.count; ++j) one_worker(j);
  }
  end_step();
  return views_;
}

template <class T>
void WorkerGradients<T>::step(Stepper<T>& stepper) {
  if (!stepper.algorithm().computes_gradients() || !objective_.concurrent_gradients()) {
    stepper.step_checked(compute(stepper));
    return;
  }
  begin_step(stepper.next_step());
  {
    // gradient_at answers only while the stepper steps, and not after a step that threw.
    struct Stepping {
      const Stepper<T>*& current;
      ~Stepping() { current = nullptr; }
    } const stepping{stepper_ = &stepper};
    stepper.step_computing(*this);
  }
  end_step();
}

template <class T>
std::span<const T> WorkerGradients<T>::gradient_at(std::size_t j, const DetachedPoint<T>& point) {
  require<InternalError>(stepper_ != nullptr, "a worker's gradient was asked for outside a step");
  // The algorithm's tasks run on the pool (Algorithm's for_each_worker).
  if (!objective_.gradient_at(point, train_, samples_[j], gradients_[j], upcoming(j, true))) {
    stepper_->check_gradient(j, gradients_[j]);
  }
  return gradients_[j];
}

template <class T>
bool WorkerGradients<T>::detached_input_at(std::size_t j, const DetachedPoint<T>& point, T w, T s,
                                           std::span<T> e) {
  require<InternalError>(stepper_ != nullptr, "a worker's input was asked for outside a step");
  const DetachedInput<T> input =
      objective_.detached_input_at(point, train_, samples_[j], w, s, e, upcoming(j, true));
  if (input.bad) stepper_->reject_gradient(j, *input.bad, input.bad_value);
  return input.written;
}

template <class T>
void WorkerGradients<T>::begin_step(std::uint64_t t) {
  objective_.begin_step();
  samples_.resize(group_.count);
  for (std::size_t j = 0; j < group_.count; ++j) samples_[j] = batches_.batch(j, t);
}

template <class T>
void WorkerGradients<T>::end_step() {
  objective_.end_step();
  average_statistics_over_ranks();
}

// Worker j's task fetches worker j + 1's samples while it computes its own when j + 1 runs next
// on the same thread: a random sample's row comes from memory, not from the cache (its load was
// the largest part of a small model's step).
template <class T>
std::span<const std::size_t> WorkerGradients<T>::upcoming(std::size_t j, bool pooled) const {
  const bool next_here =
      j + 1 < group_.count && !(pooled && pool_.starts_share(j + 1, group_.count));
  return next_here ? samples_[j + 1] : std::span<const std::size_t>{};
}

template <class T>
void WorkerGradients<T>::average_statistics_over_ranks() {
  if (communicator_.size() == 1) return;
  const T ranks = static_cast<T>(communicator_.size());
  for (const auto& buffer : objective_.statistics()) {
    communicator_.allreduce_sum(buffer.data);
    for (T& v : buffer.data) v /= ranks;
  }
}

template class WorkerGradients<float>;
template class WorkerGradients<double>;

}  // namespace gradcomp
