#include "gradcomp/comm/worker_group.hpp"

#include "gradcomp/core/error.hpp"

namespace gradcomp {

WorkerGroup WorkerGroup::split(std::size_t workers, const Communicator& communicator) {
  const std::size_t ranks = communicator.size();
  require(workers > 0, "the number of workers must be at least 1");
  require(workers % ranks == 0,
          "{} workers cannot be split evenly over {} {} ranks; choose a number of workers "
          "divisible by {} (or run {} ranks)",
          workers, ranks, communicator.name(), ranks, workers);
  const std::size_t count = workers / ranks;
  return {workers, communicator.rank() * count, count, ranks};
}

}  // namespace gradcomp
