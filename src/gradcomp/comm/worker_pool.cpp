#include "gradcomp/comm/worker_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace gradcomp {

namespace {

// About 20 µs of polling before sleeping: longer than the gap between a step's rounds.
constexpr int kSpins = 4000;

// Waits until `value` differs from `seen`: polls, then sleeps in the atomic's wait.
template <class V>
V wait_for_change(const std::atomic<V>& value, V seen) {
  for (int i = 0; i < kSpins; ++i) {
    const V now = value.load(std::memory_order_acquire);
    if (now != seen) return now;
    WorkerPool::pause_briefly();
  }
  value.wait(seen, std::memory_order_acquire);
  return value.load(std::memory_order_acquire);
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) : shares_(std::max<std::size_t>(threads, 1)) {
  const std::size_t helpers = threads > 1 ? threads - 1 : 0;
  helpers_.reserve(helpers);
  for (std::size_t h = 0; h < helpers; ++h) {
    helpers_.emplace_back([this, h] { helper_main(h + 1, 0); });  // round 0: none started yet
  }
}

WorkerPool::~WorkerPool() {
  stopping_.store(true, std::memory_order_release);
  round_.fetch_add(1, std::memory_order_acq_rel);
  round_.notify_all();
  for (auto& helper : helpers_) helper.join();
}

std::size_t WorkerPool::available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<std::size_t>(count);
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? hardware : 1;
}

std::size_t WorkerPool::cores_per_process() {
  std::size_t local_processes = 1;
  if (const char* size = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"); size != nullptr) {
    const long parsed = std::strtol(size, nullptr, 10);
    if (parsed > 0) local_processes = static_cast<std::size_t>(parsed);
  }
  // A rank bound to one core gets 1; unbound ranks share the host's cores.
  return std::max<std::size_t>(1, available_cores() / local_processes);
}

void WorkerPool::run(std::size_t count, const std::function<void(std::size_t)>& task) {
  if (helpers_.empty() || count <= 1) {
    for (std::size_t j = 0; j < count; ++j) task(j);
    return;
  }
  // A helper still inside the last round (it found it finished, it is leaving) reads the shares:
  // they change only once it has left. Helpers joining later see that round closed.
  for (std::size_t inside = inside_.load(); inside != 0; inside = inside_.load()) {
    wait_for_change(inside_, inside);
  }
  task_ = &task;
  failure_ = nullptr;
  failure_index_ = std::numeric_limits<std::size_t>::max();
  const std::size_t threads = shares_.size();
  for (std::size_t t = 0; t < threads; ++t) {
    shares_[t].next.store(share_start(t, count), std::memory_order_relaxed);
    shares_[t].end = share_start(t + 1, count);
  }
  pending_.store(count, std::memory_order_relaxed);
  const std::uint64_t round = round_.fetch_add(1) + 1;  // publishes the round's fields
  round_.notify_all();
  take_tasks(0);
  for (std::size_t left = pending_.load(); left != 0; left = pending_.load()) {
    wait_for_change(pending_, left);
  }
  closed_.store(round);
  task_ = nullptr;
  if (failure_) std::rethrow_exception(failure_);
}

void WorkerPool::pause_briefly() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

std::size_t WorkerPool::share_start(std::size_t thread, std::size_t count) const {
  return count * thread / shares_.size();
}

bool WorkerPool::starts_share(std::size_t j, std::size_t count) const {
  for (std::size_t t = 1; t < shares_.size(); ++t) {
    if (share_start(t, count) == j) return true;
  }
  return j == 0;
}

// The finished tasks are counted down once per share run (one atomic operation on the shared
// counter per share, not per task).
void WorkerPool::take_tasks(std::size_t thread) {
  for (std::size_t k = 0; k < shares_.size(); ++k) {
    const std::size_t done = run_share((thread + k) % shares_.size());
    if (done != 0 && pending_.fetch_sub(done) == done) pending_.notify_one();
  }
}

std::size_t WorkerPool::run_share(std::size_t share) {
  Share& s = shares_[share];
  std::size_t done = 0;
  for (std::size_t j = s.next.fetch_add(1, std::memory_order_relaxed); j < s.end;
       j = s.next.fetch_add(1, std::memory_order_relaxed)) {
    try {
      (*task_)(j);
    } catch (...) {
      record_failure(j);
    }
    ++done;
  }
  return done;
}

void WorkerPool::record_failure(std::size_t index) {
  const std::lock_guard lock(failure_mutex_);
  if (index < failure_index_) {
    failure_index_ = index;
    failure_ = std::current_exception();
  }
}

// `seen` is the round the pool was at when the helper was made: a round started before the thread
// got to run is still one it waits for. Entering (inside_) and checking that the round is still
// open are ordered against run()'s closing and its wait for inside_ (sequentially consistent): a
// helper either is seen inside, or sees the round closed and takes nothing.
void WorkerPool::helper_main(std::size_t thread, std::uint64_t seen) {
  for (;;) {
    seen = wait_for_change(round_, seen);
    if (stopping_.load(std::memory_order_acquire)) return;
    inside_.fetch_add(1);
    if (closed_.load() < seen) take_tasks(thread);
    if (inside_.fetch_sub(1) == 1) inside_.notify_all();
  }
}

}  // namespace gradcomp
