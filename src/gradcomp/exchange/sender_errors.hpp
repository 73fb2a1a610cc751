#pragma once
// A message that does not decode is reported with the worker and rank that sent it: on a cluster
// "message truncated" alone does not say which node to look at.
#include <cstddef>

#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

template <class Decode>
void decode_from(const WorkerGroup& workers, std::size_t worker, Decode&& decode) {
  try {
    decode();
  } catch (const DecodeError& e) {
    throw DecodeError(fmt::format("the message of worker {} (rank {}) does not decode: {}", worker,
                                  workers.rank_of(worker), e.what()));
  }
}

}  // namespace gradcomp
