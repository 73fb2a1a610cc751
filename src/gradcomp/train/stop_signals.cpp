#include "gradcomp/train/stop_signals.hpp"

#include <csignal>
#include <cstdint>
#include <span>

namespace gradcomp {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;
extern "C" void request_stop(int) {
  g_stop_requested = 1;
}

}  // namespace

StopSignals::StopSignals() {
  g_stop_requested = 0;
  previous_int_ = std::signal(SIGINT, request_stop);
  previous_term_ = std::signal(SIGTERM, request_stop);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

bool StopSignals::requested(Communicator& communicator) const {
  std::int64_t flag = g_stop_requested != 0 ? 1 : 0;
  if (communicator.size() > 1) communicator.allreduce_sum(std::span<std::int64_t>(&flag, 1));
  return flag > 0;
}

}  // namespace gradcomp
