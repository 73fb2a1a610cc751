#include "gradcomp/comm/worker_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "gradcomp/comm/share_claims.hpp"

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
    helpers_.emplace_back([this, h] { helper_main(h + 1); });
  }
}

WorkerPool::~WorkerPool() {
  announce({round_number_ + 1, nullptr, 0, true});
  for (auto& helper : helpers_) helper.join();
}

// The seqlock's writer, without fences (ThreadSanitizer does not follow them): the round's fields
// are release stores after the odd sequence, so a helper whose acquire load reads a new field
// then finds the sequence changed when it reads it again (on x86, all plain moves).
void WorkerPool::announce(const Round& round) {
  announcement_.sequence.store(2 * round.number - 1, std::memory_order_relaxed);
  announcement_.task.store(round.task, std::memory_order_release);
  announcement_.count.store(round.count, std::memory_order_release);
  announcement_.stopping.store(round.stopping, std::memory_order_release);
  announcement_.sequence.store(2 * round.number, std::memory_order_release);
  announcement_.sequence.notify_all();
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

void WorkerPool::run(std::size_t count, TaskRef task) {
  if (helpers_.empty() || count <= 1) {
    for (std::size_t j = 0; j < count; ++j) task(j);
    return;
  }
  // A share counts at most kMostPerShare claims: more tasks than that run as consecutive rounds.
  const std::size_t most = share_claims::kMostPerShare * shares_.size();
  for (std::size_t first = 0; first < count; first += most) {
    const std::size_t part = std::min(most, count - first);
    if (first == 0 && part == count) {
      run_round(count, task);
    } else {
      run_round(part, [&](std::size_t j) { task(first + j); });
    }
  }
}

// The caller's side of a round: publish it, take tasks like a helper, wait for the helpers'
// tasks. Nothing is reset between rounds (the claims words carry their round), so the caller
// never waits for a helper to leave the last round.
void WorkerPool::run_round(std::size_t count, const TaskRef& task) {
  failure_ = nullptr;
  failure_index_ = std::numeric_limits<std::size_t>::max();
  const Round round{++round_number_, &task, count, false};
  announce(round);
  const std::size_t mine = take_tasks(0, round);
  finished_expected_ += count - mine;
  for (std::uint64_t now = finished_.load(std::memory_order_acquire); now != finished_expected_;
       now = finished_.load(std::memory_order_acquire)) {
    wait_for_change(finished_, now);
  }
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

std::size_t WorkerPool::take_tasks(std::size_t thread, const Round& round) {
  std::size_t done = 0;
  bool stale = false;
  for (std::size_t k = 0; k < shares_.size() && !stale; ++k) {
    done += run_share((thread + k) % shares_.size(), round, stale);
  }
  return done;
}

std::size_t WorkerPool::run_share(std::size_t share, const Round& round, bool& stale) {
  const std::size_t begin = share_start(share, round.count);
  const std::size_t size = share_start(share + 1, round.count) - begin;
  std::atomic<std::uint64_t>& claims = shares_[share].claims;
  std::size_t done = 0;
  std::uint64_t seen = claims.load(std::memory_order_relaxed);
  for (;;) {
    const share_claims::Claim claim = share_claims::next_claim(seen, round.number, size);
    if (claim.outcome != share_claims::Outcome::kTask) {
      stale = claim.outcome == share_claims::Outcome::kStale;
      return done;
    }
    if (!claims.compare_exchange_weak(seen, claim.word, std::memory_order_relaxed)) continue;
    seen = claim.word;
    const std::size_t j = begin + claim.index;
    try {
      (*round.task)(j);
    } catch (...) {
      record_failure(j);
    }
    ++done;
  }
}

void WorkerPool::record_failure(std::size_t index) {
  const std::lock_guard lock(failure_mutex_);
  if (index < failure_index_) {
    failure_index_ = index;
    failure_ = std::current_exception();
  }
}

// The round announced under an even `sequence`, or a round numbered 0 if the caller has started
// writing a newer one meanwhile (the seqlock's check).
WorkerPool::Round WorkerPool::read_round(std::uint64_t sequence) const {
  Round round;
  round.task = announcement_.task.load(std::memory_order_acquire);
  round.count = announcement_.count.load(std::memory_order_acquire);
  round.stopping = announcement_.stopping.load(std::memory_order_acquire);
  if (announcement_.sequence.load(std::memory_order_relaxed) == sequence) {
    round.number = sequence / 2;
  }
  return round;
}

// A helper waits for a sequence newer than the last it saw; an odd one (the caller is writing)
// or one that changed while it read is read again. It reports its finished tasks once per round.
void WorkerPool::helper_main(std::size_t thread) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::uint64_t sequence = wait_for_change(announcement_.sequence, seen);
    if (sequence % 2 == 1) {
      pause_briefly();
      continue;
    }
    const Round round = read_round(sequence);
    if (round.number == 0) continue;
    seen = sequence;
    if (round.stopping) return;
    const std::size_t done = take_tasks(thread, round);
    if (done == 0) continue;
    finished_.fetch_add(done, std::memory_order_acq_rel);
    finished_.notify_one();
  }
}

}  // namespace gradcomp
