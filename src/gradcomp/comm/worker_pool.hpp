#pragma once
// WorkerPool: the threads that run the per-worker part of a step — each hosted worker's gradient,
// compression and error update, and the decoding of each received message — in parallel
// (workers.threads, docs/config.md). A task touches only its own worker's state or read-only
// data, and everything summed over workers is summed afterwards in worker order, so a run is
// bit-identical for any number of threads (tests/train/threads_test.cpp).
//
// The threads live as long as the pool and wait for the next round spinning briefly, then
// sleeping: a step has a few rounds of tens of microseconds each, where waking a sleeping thread
// would cost as much as the work. Thread t first runs the t-th contiguous share of the tasks, so a
// worker's rounds of one step (its gradient, then its compression) and of the next steps run on
// the same core, where its vectors are in the cache; a thread that finishes its share takes the
// unstarted tasks of the others.
//
// A round ends when its tasks have, not when every helper has taken part: a helper that the
// system has not scheduled yet (more busy threads than cores: ctest -j2, other jobs) finds the
// round closed when it wakes and waits for the next one, instead of every round waiting a time
// slice for it. The caller alone does all the work if need be.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gradcomp {

class WorkerPool {
 public:
  // `threads` ≥ 1 counts the caller: threads − 1 helpers are started.
  explicit WorkerPool(std::size_t threads = 1);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] std::size_t threads() const { return helpers_.size() + 1; }

  // Runs task(j) for every j in [0, count) on the caller's and the helpers' threads (in no
  // particular order) and returns when all have finished. If tasks throw, the exception of the
  // lowest j is rethrown here, after every task has ended. Not reentrant: a task must not call
  // run() on the same pool.
  void run(std::size_t count, const std::function<void(std::size_t)>& task);
  // Whether task j of a round of `count` begins a thread's share: the task before it usually
  // runs on another core, so what that task could fetch for j would land in the wrong cache.
  [[nodiscard]] bool starts_share(std::size_t j, std::size_t count) const;
  // The first task of thread `thread`'s share of a round of `count` (thread = threads() gives
  // count): the tasks a thread runs first, unless another thread takes them when it is late.
  [[nodiscard]] std::size_t share_start(std::size_t thread, std::size_t count) const;
  // A spin-wait's pause (x86's `pause`, elsewhere a yield).
  static void pause_briefly();

  // The CPUs this process may run on (its affinity mask: under mpirun, the cores it is bound to).
  static std::size_t available_cores();
  // Its share of them: available_cores() divided by the processes mpirun started on this host
  // (OMPI_COMM_WORLD_LOCAL_SIZE: unbound ranks all see every core), at least 1. More threads than
  // cores make every round wait for a descheduled thread.
  static std::size_t cores_per_process();

 private:
  void helper_main(std::size_t thread, std::uint64_t seen);
  // Thread `thread`'s share first, then what is left of the others'.
  void take_tasks(std::size_t thread);
  // Runs the unclaimed tasks of `share`; returns how many it ran.
  std::size_t run_share(std::size_t share);
  void record_failure(std::size_t index);

  std::vector<std::thread> helpers_;
  std::atomic<std::uint64_t> round_{0};  // bumped to start a round
  // Thread t's share of the round: tasks [next, end) not yet claimed.
  struct alignas(64) Share {
    std::atomic<std::size_t> next{0};
    std::size_t end = 0;
  };
  std::vector<Share> shares_;
  std::atomic<std::size_t> pending_{0};   // tasks of the current round not yet finished
  std::atomic<std::size_t> inside_{0};    // helpers taking tasks (of the round not yet closed)
  std::atomic<std::uint64_t> closed_{0};  // the last round whose tasks have all finished
  std::atomic<bool> stopping_{false};
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
  std::size_t failure_index_ = 0;
};

}  // namespace gradcomp
