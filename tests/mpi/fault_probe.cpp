// A small MPI job that fails on purpose, one way per mode, for fault_test.sh: the job must end
// within a bounded time with a clear message, never hang.
//   raise     rank 1 raises an error at step 3 while the others keep exchanging
//   kill      rank 1 is killed (SIGKILL) at step 3
//   mismatch  rank 1 states another model size at the handshake
//   decode    rank 1 sends a truncated message in an allgather
#include <csignal>
#include <cstring>
#include <string>

#include "gradcomp/comm/handshake.hpp"
#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/mpi_session.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/exchange.hpp"

namespace {

using namespace gradcomp;

int probe(const std::string& mode) {
  MpiCommunicator mpi;
  const bool culprit = mpi.rank() == 1;
  handshake(mpi, {{"model size", mode == "mismatch" && culprit ? "1000" : "1024"}});
  Exchange exchange(mpi, WorkerGroup::split(mpi.size(), mpi));
  const Layout layout = Layout::flat(1024);
  const auto codec = make_compressor("topk:ratio=0.05");
  std::vector<float> x(1024, 1.0F);
  std::vector<float> out(1024);
  for (std::uint64_t step = 0; step < 100000; ++step) {
    if (culprit && step == 3 && mode == "raise") {
      throw InvalidInput("probe: rank 1 fails at step 3");
    }
    if (culprit && step == 3 && mode == "kill") std::raise(SIGKILL);
    x[step % 1024] += 1.0F;
    std::vector<Message> mine{codec->encode(std::span<const float>(x), layout,
                                            {1, step, static_cast<std::uint32_t>(mpi.rank())})};
    if (culprit && step == 3 && mode == "decode") mine[0].bytes.pop_back();
    exchange.allgather<float>({*codec, layout, 1, step, mine}, out, 1.0F);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession session(argc, argv);
  const std::string mode = argc > 1 ? argv[1] : "";
  return run_rank(session, [&] { return probe(mode); });
}
