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
//
// In the common case a round passes two signals between the cores, each a cache line's hand-off
// (50–250 ns on the two-core VM of docs/benchmarks.md): the caller's announcement (the round's
// number, task and count in one line) and a helper's count of the tasks it finished. Nothing is
// reset between rounds (a share's claims carry their round: share_claims.hpp), so the caller never
// waits for a helper to leave the last round. bench/pool_bench's PoolRound measures a round.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace gradcomp {

// A round's task, referred to and not owned: WorkerPool::run takes any callable of a task index
// as it is, where a std::function allocated a copy of every lambda larger than two pointers
// (a few per step, on the caller's serial path). The callable must outlive the call it is passed
// to, as a temporary does.
class TaskRef {
 public:
  template <class Task>
  requires(!std::is_same_v<std::remove_cvref_t<Task>, TaskRef> &&
           std::is_invocable_v<const Task&, std::size_t>)
      TaskRef(const Task& task)  // NOLINT(google-explicit-constructor): run(count, [&](j) {...})
      : task_(&task),
        call_([](const void* erased, std::size_t j) { (*static_cast<const Task*>(erased))(j); }) {}
  void operator()(std::size_t j) const { call_(task_, j); }

 private:
  const void* task_;
  void (*call_)(const void*, std::size_t);
};

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
  void run(std::size_t count, TaskRef task);
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
  // What the caller publishes to start a round (a seqlock: `sequence` is odd while it writes).
  struct alignas(64) Announcement {
    std::atomic<std::uint64_t> sequence{0};  // 2·round when the round's fields are complete
    std::atomic<const TaskRef*> task{nullptr};
    std::atomic<std::size_t> count{0};
    std::atomic<bool> stopping{false};
  };
  struct Round {
    std::uint64_t number = 0;
    const TaskRef* task = nullptr;
    std::size_t count = 0;
    bool stopping = false;
  };
  // Thread t's share of a round: which round claimed from it last, and how many tasks
  // (comm/share_claims.hpp).
  struct alignas(64) Share {
    std::atomic<std::uint64_t> claims{0};
  };

  // Publishes a round to the helpers and wakes those asleep.
  void announce(const Round& round);
  // One round of at most share_claims::kMostPerShare tasks per share.
  void run_round(std::size_t count, const TaskRef& task);
  [[nodiscard]] Round read_round(std::uint64_t sequence) const;
  void helper_main(std::size_t thread);
  // Thread `thread`'s share first, then what is left of the others'; returns how many it ran.
  std::size_t take_tasks(std::size_t thread, const Round& round);
  // Runs the unclaimed tasks of `share` in `round`; returns how many it ran, or stops early when
  // the share's word shows a newer round (`stale` set).
  std::size_t run_share(std::size_t share, const Round& round, bool& stale);
  void record_failure(std::size_t index);

  std::vector<std::thread> helpers_;
  Announcement announcement_;
  std::vector<Share> shares_;
  // Tasks finished by the helpers, over all rounds: a round ends when it reaches the count the
  // caller expects (one update per helper and round, not per task).
  alignas(64) std::atomic<std::uint64_t> finished_{0};
  alignas(64) std::uint64_t round_number_ = 0;  // the caller's: the last round started
  std::uint64_t finished_expected_ = 0;         // the caller's: finished_ after the last round
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
  std::size_t failure_index_ = 0;
};

}  // namespace gradcomp
