#pragma once
// SIGINT, SIGTERM, SIGHUP (a closed terminal or SSH session) and SIGUSR1 (what Open MPI's mpirun
// forwards to every rank: `kill -USR1 <mpirun>` stops a job this way, where Ctrl-C on mpirun
// makes Open MPI kill the job itself) during a training run: the run
// stops after the step in progress, writes its checkpoint, metrics and summary, and the command
// exits with code 130 (docs/outputs.md). A second signal ends the process at once with code 130;
// the last complete checkpoint stays (checkpoints are written atomically).
//
// The handlers are installed for the trainer's whole lifetime, from before the data is loaded: a
// signal during start-up (loading, the optimum solve) is kept and honoured after the first step,
// not lost. A process started in the background by a non-interactive shell begins with SIGINT
// ignored; installing the handler is what makes it stoppable.
#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

class StopSignals {
 public:
  // Clears any earlier request and installs the handlers; `announce`: this process (rank 0)
  // prints that it is stopping.
  explicit StopSignals(bool announce);
  ~StopSignals();  // restores the previous handlers
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Collective under mpi: every rank must stop at the same step, so the flag is all-reduced.
  [[nodiscard]] bool requested(Communicator& communicator) const;

 private:
  void (*previous_int_)(int) = nullptr;
  void (*previous_term_)(int) = nullptr;
  void (*previous_hup_)(int) = nullptr;
  void (*previous_usr1_)(int) = nullptr;
};

}  // namespace gradcomp
