#include "gradcomp/train/worker_gradients.hpp"

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
  const std::uint64_t t = stepper.next_step();
  objective_.begin_step();
  samples_.resize(group_.count);
  for (std::size_t j = 0; j < group_.count; ++j) samples_[j] = batches_.batch(j, t);
  // Worker j's task fetches worker j + 1's samples while it computes its own when j + 1 runs next
  // on the same thread: a random sample's row comes from memory, not from the cache (its load was
  // the largest part of a small model's step).
  const bool pooled = objective_.concurrent_gradients();
  const auto one_worker = [&](std::size_t j) {
    const bool next_here =
        j + 1 < group_.count && !(pooled && pool_.starts_share(j + 1, group_.count));
    const std::span<const std::size_t> upcoming =
        next_here ? samples_[j + 1] : std::span<const std::size_t>{};
    // A gradient the objective saw finite as it wrote it needs no scan of its own.
    if (!objective_.gradient(stepper.query_point(j), train_, samples_[j], gradients_[j],
                             upcoming)) {
      stepper.check_gradient(j, gradients_[j]);
    }
  };
  if (pooled) {
    pool_.run(group_.count, one_worker);
  } else {
    for (std::size_t j = 0; j < group_.count; ++j) one_worker(j);
  }
  objective_.end_step();
  average_statistics_over_ranks();
  return views_;
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
