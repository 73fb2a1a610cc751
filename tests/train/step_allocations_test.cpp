// A step of the in-process simulator allocates nothing once its buffers have their size: every
// heap allocation on the caller's serial path (the exchange's sizes, decode bookkeeping and
// traffic, the pool's task, the compressors' scratch) was time that the other threads waited
// for (docs/benchmarks.md, "The in-process simulator against NumPy"). Counted by replacing the
// global operator new in this test program, on every thread, for the three exchange patterns
// the simulator's benchmark runs: allgather of carried coordinates (ef-scaled), allreduce of
// payloads (DEF), and the two-way server (dist-EF-blockSGDM). The compressors here send messages
// of a fixed size, so no step can need a larger buffer than the warm-up steps did.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/stepper.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/model/registry.hpp"
#include "gradcomp/train/batches.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/run_data.hpp"
#include "gradcomp/train/worker_gradients.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace gradcomp {
namespace {

// Heap allocations (operator new, any thread) in `steps` steps after `warm_up` steps of a run of
// 8 workers, batch 1, on d = 1,024 generated features, with the workers on `threads` threads.
std::size_t allocations_in_steps(const AlgorithmChoice& choice, std::size_t threads) {
  constexpr std::size_t kWorkers = 8;
  constexpr std::size_t kWarmUp = 10;
  constexpr std::size_t kSteps = 40;
  const TrainConfig config = parse_config(
      "", "allocations.toml",
      {"data.source=\"generate\"",
       "data.generator=\"madelon:samples=400,features=1024,informative=8,redundant=8\"",
       "model.name=\"logistic:l2=0.001\"", "workers.n=8", "run.batch=\"1\"",
       "run.precision=\"float\""});
  const RunData data = load_run_data(config);
  const Shards shards = partition(data.train, kWorkers, config.partition, config.seed);
  const auto objective = make_objective<float>(config.model, data.train, config.seed);
  LocalCommunicator local;
  const WorkerGroup group = WorkerGroup::split(kWorkers, local);
  Exchange exchange(local, group, threads);
  const auto algorithm =
      make_algorithm<float>({exchange, objective->layout(), config.seed, choice});
  Batches batches(shards, group, config.batch, config.seed);
  Stepper<float> stepper(*algorithm, objective->layout(), make_schedule("constant", {}), 0.01, 0);
  std::vector<float> x0(objective->layout().total_size());
  objective->initialize(x0, config.seed);
  algorithm->start(x0);
  WorkerGradients<float> gradients(*objective, data.train, batches, group, local, exchange.pool());
  for (std::size_t s = 0; s < kWarmUp; ++s) gradients.step(stepper);
  const std::size_t before = allocations.load();
  for (std::size_t s = 0; s < kSteps; ++s) gradients.step(stepper);
  return allocations.load() - before;
}

TEST(StepAllocations, TheOperatorNewOfThisProgramCountsEveryThreadsAllocations) {
  WorkerPool pool(2);
  const std::size_t before = allocations.load();
  // Each task allocates a string and its characters (too many for the string's own storage).
  pool.run(4, [](std::size_t j) { delete new std::string(64 + j, 'x'); });
  EXPECT_EQ(allocations.load() - before, 8U);
}

TEST(StepAllocations, AWarmStepAllocatesNothingInAnyPatternOnOneOrTwoThreads) {
  const std::vector<AlgorithmChoice> choices = {
      {"ef-scaled", "rbgs:ratio=64", "identity"},     // allgather, decodes as carried coordinates
      {"def", "rbgs:ratio=64", "identity"},           // allreduce of the payloads
      {"dist-ef-blocksgdm", "identity", "identity"},  // the server, blocksign both ways
  };
  for (const AlgorithmChoice& choice : choices) {
    for (const std::size_t threads : {1, 2}) {
      EXPECT_EQ(allocations_in_steps(choice, threads), 0U)
          << choice.algorithm << " + " << choice.compressor << " on " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace gradcomp
