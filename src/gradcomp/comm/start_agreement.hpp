#pragma once
// How the ranks of a job start together: each runs its part of the start (reading the
// configuration, loading data, building the model), then all of them compare outcomes in one
// collective. An error one rank found is then known to every rank, printed once — by rank 0,
// naming the rank that found it unless every rank found the same — and every rank exits with its
// code, instead of one rank aborting the job while the others wait in a collective and each rank
// printing the same message again.
#include <functional>

#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/core/exit_report.hpp"

namespace gradcomp {

// Collective: runs `part` on this rank, then agrees with every rank. Returns when no rank failed;
// otherwise throws AgreedFailure (core/exit_report.hpp) on every rank with the lowest failing
// rank's report.
void start_together(Communicator& communicator, const std::function<void()>& part);

}  // namespace gradcomp
