#pragma once
// Which of the n logical workers this process hosts (docs/architecture.md): rank r of p
// hosts the contiguous workers [r·n/p, (r+1)·n/p). Contiguous blocks keep worker order equal to
// rank order, so "all messages in worker order" is "every rank's messages in rank order".
#include <cstddef>

#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

struct WorkerGroup {
  std::size_t total = 1;  // n
  std::size_t first = 0;  // the first worker on this rank
  std::size_t count = 1;  // n/p workers per rank
  std::size_t ranks = 1;  // p

  // InvalidInput when n is 0 or not divisible by the number of ranks.
  static WorkerGroup split(std::size_t workers, const Communicator& communicator);

  [[nodiscard]] std::size_t rank_of(std::size_t worker) const { return worker / count; }
  [[nodiscard]] bool hosts(std::size_t worker) const {
    return worker >= first && worker < first + count;
  }
};

}  // namespace gradcomp
