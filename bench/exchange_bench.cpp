// Exchange benchmarks under mpirun (docs/benchmarks.md "Exchange"):
//   Allreduce/{ring,library}/m      gradcomp's ring vs MPI_Allreduce on m floats
//   ExchangeStep/{dense,topk_0.1%,topk_1%,rbgs}  one step of one worker per rank on 25M floats:
//   encode, then
//                                   the exchange (transport + decode of the aggregate)
//   Transport/{...}                 the same steps' transport alone: the collectives the pattern
//                                   makes with the same byte counts, no encode or decode (what the
//                                   network model predicts; bench/cluster_exchange.sh)
//   ExchangeStep/server_blocksign   the two-way pattern: blocksign messages to the server (rank 0),
//                                   which answers with its own error-fed blocksign message
//                                   (dist-EF-SGD's server) to every rank
// Every rank runs the same benchmarks with fixed iteration counts (adaptive counts would differ
// between ranks and hang); each iteration's time is the slowest rank's, reported by rank 0.
// ExchangeStep also reports the traffic model's communication seconds for --network=SPEC
// (default 1Gbit), so a run on a rate-limited link (bench/netem_exchange.sh) can be compared
// with the model.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>

#include "gradcomp/algo/servers.hpp"
#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/mpi_session.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/exchange/exchange.hpp"
#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/exchange/traffic.hpp"

namespace {

using namespace gradcomp;
using Clock = std::chrono::steady_clock;

NetworkModel g_network = NetworkModel::parse("1Gbit");
constexpr std::size_t kStepElements = 25'000'000;

double slowest(double seconds) {
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return seconds;
}

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Allreduce(benchmark::State& state, AllreduceAlgorithm algorithm) {
  MpiCommunicator comm(MPI_COMM_WORLD, algorithm);
  std::vector<float> x(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::fill(x.begin(), x.end(), 1.0F);
    comm.barrier();
    const auto start = Clock::now();
    comm.allreduce_sum(std::span<float>(x));
    state.SetIterationTime(slowest(since(start)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0) * 4);
  state.counters["ranks"] = static_cast<double>(comm.size());
}

// Five layers of 5M: RBGS keeps one block per layer, Top-k selects over the whole model.
Layout step_layout() {
  return Layout::from_shapes(
      {{5000, 1000}, {5000, 1000}, {5000, 1000}, {5000, 1000}, {5000, 1000}});
}

std::vector<float> gradient_of(std::size_t rank) {
  RandomStream stream(3, Purpose::kTest, 0, 0, static_cast<std::uint32_t>(rank));
  std::vector<float> g(kStepElements);
  for (float& v : g) v = static_cast<float>(stream.normal());
  return g;
}

// server: empty for the compressor's own pattern, else the two-way pattern whose server answers
// with this compressor.
void ExchangeStep(benchmark::State& state, const std::string& spec, const std::string& server) {
  MpiCommunicator comm;
  Exchange exchange(comm, WorkerGroup::split(comm.size(), comm));
  const Layout layout = step_layout();
  const auto compressor = make_compressor(spec);
  const auto decoder = make_compressor(spec);
  const Pattern pattern = server.empty() ? default_pattern(*decoder) : Pattern::kServer;
  std::vector<float> server_error(server.empty() ? 0 : kStepElements);
  std::unique_ptr<ErrorFeedbackServer<float>> role;
  if (!server.empty())
    role = std::make_unique<ErrorFeedbackServer<float>>(server, layout, server_error);
  const std::vector<float> gradient = gradient_of(comm.rank());
  std::vector<Message> mine(1);
  std::vector<float> aggregate(kStepElements);
  const float mean = 1.0F / static_cast<float>(comm.size());
  double encode_seconds = 0;
  double exchange_seconds = 0;
  std::uint64_t step = 0;
  for (auto _ : state) {
    comm.barrier();
    const auto start = Clock::now();
    const StepContext context{1, step, static_cast<std::uint32_t>(comm.rank())};
    compressor->encode(std::span<const float>(gradient), layout, context, mine[0]);
    const auto encoded = Clock::now();
    exchange.run<float>(pattern, {*decoder, layout, 1, step, mine}, role.get(), aggregate, mean);
    exchange_seconds += slowest(since(encoded));
    encode_seconds += slowest(std::chrono::duration<double>(encoded - start).count());
    state.SetIterationTime(slowest(since(start)));
    ++step;
  }
  const double iterations = static_cast<double>(state.iterations());
  const StepTraffic& traffic = exchange.traffic();
  state.counters["encode_s"] = encode_seconds / iterations;
  state.counters["exchange_s"] = exchange_seconds / iterations;
  state.counters["model_comm_s"] = g_network.seconds(traffic);
  state.counters["sent_bits"] = static_cast<double>(traffic.sent_bits[comm.rank()]);
  state.counters["received_bits"] = static_cast<double>(traffic.received_bits[comm.rank()]);
  state.counters["server_bits"] =
      static_cast<double>(traffic.server_received_bits + traffic.server_sent_bits);
  state.counters["answer_bits"] = static_cast<double>(traffic.answer_bits);
  double total_sent = 0;
  for (const std::uint64_t bits : traffic.sent_bits) total_sent += static_cast<double>(bits);
  state.counters["total_sent_bits"] = total_sent;  // for a medium all ranks share (netem's lo)
  state.counters["ranks"] = static_cast<double>(comm.size());
}

// The transport of one step of `spec` (its pattern, or the two-way pattern when server is set),
// without encoding or decoding: the sizes, then the payload, through the communicator as
// Exchange moves them. model_comm_s is the α–β model of the same step (exchange/traffic.hpp).
void Transport(benchmark::State& state, const std::string& spec, const std::string& server) {
  MpiCommunicator comm;
  const Layout layout = step_layout();
  const auto compressor = make_compressor(spec);
  const Pattern pattern = server.empty() ? default_pattern(*compressor) : Pattern::kServer;
  Message message;
  compressor->encode(std::span<const float>(gradient_of(comm.rank())), layout,
                     StepContext{1, 0, static_cast<std::uint32_t>(comm.rank())}, message);
  const std::vector<std::uint64_t> mine{message.bytes.size()};
  const std::vector<std::uint64_t> sizes = comm.allgather_fixed(mine);
  std::vector<std::uint64_t> message_bits(sizes.size());
  for (std::size_t r = 0; r < sizes.size(); ++r) message_bits[r] = 8 * sizes[r];
  const std::size_t payload = compressor->payload_size(layout).value_or(0);
  std::vector<float> values(payload, 1.0F);
  std::vector<std::uint8_t> all(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
  std::vector<std::uint8_t> answer = message.bytes;  // the server's answer: one such message
  for (auto _ : state) {
    comm.barrier();
    const auto start = Clock::now();
    if (pattern == Pattern::kAllreduce) {
      comm.allreduce_sum(std::span<float>(values));
    } else {
      const std::vector<std::uint64_t> rank_sizes = comm.allgather_fixed(mine);
      if (pattern == Pattern::kServer) {
        comm.gather_bytes(message.bytes, rank_sizes, all, Exchange::kServerRank);
        comm.broadcast(answer, Exchange::kServerRank);
      } else {
        comm.allgather_bytes(message.bytes, rank_sizes, all);
      }
    }
    state.SetIterationTime(slowest(since(start)));
  }
  const StepTraffic traffic =
      pattern == Pattern::kAllreduce ? allreduce_traffic(message_bits, payload, 32)
      : pattern == Pattern::kServer  ? server_traffic(pattern, message_bits, 8 * answer.size())
                                     : allgather_traffic(message_bits);
  state.counters["model_comm_s"] = g_network.seconds(traffic);
  state.counters["message_bytes"] = static_cast<double>(message.bytes.size());
  state.counters["ranks"] = static_cast<double>(comm.size());
}

void register_benchmarks() {
  for (const auto& [name, algorithm] :
       {std::pair{"ring", AllreduceAlgorithm::kRing}, {"library", AllreduceAlgorithm::kLibrary}}) {
    benchmark::RegisterBenchmark((std::string("Allreduce/") + name).c_str(), Allreduce, algorithm)
        ->Arg(1'000'000)
        ->Iterations(30)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("Allreduce/") + name).c_str(), Allreduce, algorithm)
        ->Arg(25'000'000)
        ->Iterations(4)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto& [name, spec, server] : {std::tuple{"dense", "identity", ""},
                                           {"topk_0.1%", "topk:ratio=0.001", ""},
                                           {"topk_1%", "topk:ratio=0.01", ""},
                                           {"rbgs_64", "rbgs:ratio=64", ""},
                                           {"server_blocksign", "blocksign", "blocksign"}}) {
    benchmark::RegisterBenchmark((std::string("ExchangeStep/") + name).c_str(), ExchangeStep,
                                 std::string(spec), std::string(server))
        ->Iterations(3)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("Transport/") + name).c_str(), Transport,
                                 std::string(spec), std::string(server))
        ->Iterations(5)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// Rank 0 reports (use --benchmark_format=json on stdout, not --benchmark_out, which every rank
// would write); the others run the same benchmarks silently.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  MpiSession session(argc, argv);
  return run_rank(session, [&] {
    for (int i = 1; i < argc; ++i) {
      if (std::strncmp(argv[i], "--network=", 10) == 0)
        g_network = NetworkModel::parse(argv[i] + 10);
    }
    benchmark::Initialize(&argc, argv);
    register_benchmarks();
    SilentReporter silent;
    if (session.rank() == 0) {
      benchmark::RunSpecifiedBenchmarks();
    } else {
      benchmark::RunSpecifiedBenchmarks(&silent);
    }
    benchmark::Shutdown();
    return 0;
  });
}
