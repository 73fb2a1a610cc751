// What handing work between cores costs on this machine (docs/benchmarks.md, "The in-process
// simulator against NumPy"): the fixed costs under a 2-thread simulator step, which a step of
// tens of microseconds pays a few times.
//
// - HandOff: one cache line passed back and forth between two threads, each waiting for the
//   other's write: ns per one-way hand-off (half a round trip). It is the latency of every
//   signal between the pool's threads (a round's start, a finished share, a chained sum's piece).
//   A shared VM's two cores may sit on one die or on two, and the host moves them: this figure
//   went between about 50 and 250 ns within ten minutes of one day.
// - PoolRound: one WorkerPool::run of 20 empty tasks, µs per round: the round's own cost (start,
//   claims, end), paid by every round of a step.
//
// Run with --benchmark_min_time=0.2 --benchmark_repetitions=3
// --benchmark_report_aggregates_only=true (the figures in docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "gradcomp/comm/worker_pool.hpp"

namespace {

// The line both threads write: the caller stores an odd value, the partner answers with the
// next even one.
struct alignas(64) Line {
  std::atomic<std::uint64_t> value{0};
};

void HandOff(benchmark::State& state) {
  Line line;
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    std::uint64_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const std::uint64_t now = line.value.load(std::memory_order_acquire);
      if (now != seen && now % 2 == 1) {
        line.value.store(now + 1, std::memory_order_release);
        seen = now + 1;
      } else {
        gradcomp::WorkerPool::pause_briefly();
      }
    }
  });
  std::uint64_t sent = 1;
  for (auto _ : state) {
    line.value.store(sent, std::memory_order_release);
    while (line.value.load(std::memory_order_acquire) != sent + 1) {
    }
    sent += 2;
  }
  stop.store(true, std::memory_order_relaxed);
  partner.join();
  // Two hand-offs per iteration.
  state.counters["ns_per_hand_off"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
// Real time: a hand-off is the caller waiting for the other core, which is what is measured.
BENCHMARK(HandOff)->UseRealTime();

void PoolRound(benchmark::State& state) {
  const auto threads = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kTasks = 20;
  gradcomp::WorkerPool pool(threads);
  for (auto _ : state) {
    // Tasks that touch nothing shared: a counter they all wrote would add a hand-off per task.
    pool.run(kTasks, [](std::size_t j) { benchmark::DoNotOptimize(j); });
  }
  state.counters["us_per_round"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(PoolRound)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
