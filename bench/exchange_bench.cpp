// Exchange benchmarks under mpirun (docs/benchmarks.md "Exchange"):
//   Allreduce/{ring,library}/m      gradcomp's ring vs MPI_Allreduce on m floats
//   ExchangeStep/{dense,topk,rbgs}  one step of one worker per rank on 25M floats: encode, then
//                                   the exchange (transport + decode of the aggregate)
// Every rank runs the same benchmarks with fixed iteration counts (adaptive counts would differ
// between ranks and hang); each iteration's time is the slowest rank's, reported by rank 0.
// ExchangeStep also reports the traffic model's communication seconds for --network=SPEC
// (default 1Gbit), so a run on a rate-limited link (bench/netem_exchange.sh) can be compared
// with the model.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <chrono>
#include <cstring>
#include <string>

#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/mpi_session.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/exchange/exchange.hpp"
#include "gradcomp/exchange/network_model.hpp"

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

void ExchangeStep(benchmark::State& state, const std::string& spec) {
  MpiCommunicator comm;
  Exchange exchange(comm, WorkerGroup::split(comm.size(), comm));
  const Layout layout = step_layout();
  const auto compressor = make_compressor(spec);
  const auto decoder = make_compressor(spec);
  const Pattern pattern = default_pattern(*decoder);
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
    exchange.run<float>(pattern, {*decoder, layout, 1, step, mine}, nullptr, aggregate, mean);
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
  double total_sent = 0;
  for (const std::uint64_t bits : traffic.sent_bits) total_sent += static_cast<double>(bits);
  state.counters["total_sent_bits"] = total_sent;  // for a medium all ranks share (netem's lo)
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
  for (const auto& [name, spec] : {std::pair{"dense", "identity"},
                                   {"topk_0.1%", "topk:ratio=0.001"},
                                   {"rbgs_64", "rbgs:ratio=64"}}) {
    benchmark::RegisterBenchmark((std::string("ExchangeStep/") + name).c_str(), ExchangeStep,
                                 std::string(spec))
        ->Iterations(3)
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
