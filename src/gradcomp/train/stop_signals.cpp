#include "gradcomp/train/stop_signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <span>
#include <string_view>

namespace gradcomp {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;
volatile std::sig_atomic_t g_announce = 0;  // this process prints the notices (rank 0)

constexpr std::string_view kStopping =
    "\ngradcomp: stopping after the step in progress: writing the checkpoint, the final "
    "evaluation and the summary (a second Ctrl-C stops at once, keeping the last complete "
    "checkpoint)\n";
constexpr std::string_view kStoppedAtOnce =
    "\ngradcomp: stopped at once; the last complete checkpoint is kept (resume with gradcomp "
    "train --resume)\n";

// Only async-signal-safe calls here: write(2) and _exit(2).
extern "C" void request_stop(int) {
  if (g_stop_requested != 0) {
    if (g_announce != 0) (void)!write(STDERR_FILENO, kStoppedAtOnce.data(), kStoppedAtOnce.size());
    _exit(130);  // checkpoints are written atomically: the previous one is whole
  }
  g_stop_requested = 1;
  if (g_announce != 0) (void)!write(STDERR_FILENO, kStopping.data(), kStopping.size());
}

}  // namespace

StopSignals::StopSignals(bool announce) {
  g_stop_requested = 0;
  g_announce = announce ? 1 : 0;
  previous_int_ = std::signal(SIGINT, request_stop);
  previous_term_ = std::signal(SIGTERM, request_stop);
  previous_hup_ = std::signal(SIGHUP, request_stop);
  previous_usr1_ = std::signal(SIGUSR1, request_stop);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
  std::signal(SIGHUP, previous_hup_);
  std::signal(SIGUSR1, previous_usr1_);
}

bool StopSignals::requested(Communicator& communicator) const {
  std::int64_t flag = g_stop_requested != 0 ? 1 : 0;
  if (communicator.size() > 1) communicator.allreduce_sum(std::span<std::int64_t>(&flag, 1));
  return flag > 0;
}

}  // namespace gradcomp
