#pragma once
// Minibatches per worker: worker w walks its shard in a seeded order that is reshuffled every
// pass (RandomStream keyed by (seed, batch purpose, pass, worker)), b samples per step, wrapping
// into the next pass. The position is a function of the step alone, so a resumed run draws the
// same batches. batch = "full": every step uses the whole shard (deterministic gradients).
#include <span>
#include <string>
#include <vector>

#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/data/partition.hpp"

namespace gradcomp {

class Batches {
 public:
  Batches(const Shards& shards, const WorkerGroup& group, const std::string& batch,
          std::uint64_t seed);

  // Local worker j's samples at step t (valid until the next call for j).
  std::span<const std::size_t> batch(std::size_t local_worker, std::uint64_t step);
  // Steps of one epoch: every worker sees about its shard once ([HardThreshold]: N/(n·b)); 1 for
  // "full".
  [[nodiscard]] std::uint64_t steps_per_epoch(std::size_t samples, std::size_t workers) const;

 private:
  const std::vector<std::size_t>& order(std::size_t local_worker, std::uint64_t pass);

  const Shards& shards_;
  WorkerGroup group_;
  bool full_ = false;
  std::size_t size_ = 1;
  std::uint64_t seed_;
  std::vector<std::uint64_t> cached_pass_;
  std::vector<std::vector<std::size_t>> cached_order_;
  std::vector<std::vector<std::size_t>> current_;
};

}  // namespace gradcomp
