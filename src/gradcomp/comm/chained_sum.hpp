#pragma once
// The sum out = Σ_w weight·v_w over the workers' d-vectors, in worker order for every coordinate,
// on a WorkerPool's threads without moving any worker's vector to another core.
//
// Summing by coordinate slices (each thread adds every worker's vector over its slice) reads, on
// each core, the slices of the vectors the other cores' workers wrote, and the next step's writes
// take those lines back: on a two-core VM that moved a cache line in 15 ns (docs/benchmarks.md,
// "The in-process simulator against NumPy"), a sum of 20 vectors of 5,000 floats this way took
// longer on two threads than on one. Here thread t adds the vectors of its own share of the
// workers (the share whose tasks it ran in the worker round: WorkerPool::share_start), piece by
// piece, onto the partial sum thread t − 1 has finished for that piece. Only the partial sums move,
// once per thread and piece, and each coordinate's additions are those of the sequential loop, in
// its order: the same bits for any number of threads.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <thread>

#include "gradcomp/comm/worker_pool.hpp"
#include "gradcomp/core/elementwise.hpp"

namespace gradcomp {

// Pieces of at least this many coordinates, at most kMaxChainPieces of them: thread t + 1 starts
// when thread t has finished the first piece, so more pieces overlap the threads better, and each
// costs a hand-over, about a microsecond on the two-core VM of docs/benchmarks.md (20 vectors
// of 5,000: 26 µs per step in 9 pieces of 512 or more, 18 µs in 2 of 2,048 or more).
constexpr std::size_t kChainPieceMinimum = 2048;
constexpr std::size_t kMaxChainPieces = 32;

// out = ((0 + c_0) + c_1) + … per coordinate, where add_piece(w, begin, end) adds worker w's
// contribution c_w onto out[begin, end) (each coordinate once, in whatever order within the
// piece): the loop over w = 0, 1, … of the same additions, whatever the threads.
template <class T, class AddPiece>
void chained_sum_of(WorkerPool& pool, std::size_t workers, std::span<T> out,
                    const AddPiece& add_piece) {
  const std::size_t d = out.size();
  const std::size_t threads = pool.threads();
  const std::size_t pieces = std::clamp<std::size_t>(d / kChainPieceMinimum, 1, kMaxChainPieces);
  // progress[k] = how many threads' shares piece k holds.
  std::array<std::atomic<std::uint32_t>, kMaxChainPieces> progress{};
  pool.run(threads, [&](std::size_t t) {
    const std::size_t first = pool.share_start(t, workers);
    const std::size_t last = pool.share_start(t + 1, workers);
    for (std::size_t k = 0; k < pieces; ++k) {
      const std::size_t begin = k * d / pieces;
      const std::size_t end = (k + 1) * d / pieces;
      // The thread before may be descheduled (more threads than free cores): yield now and then.
      for (unsigned spins = 1; progress[k].load(std::memory_order_acquire) != t; ++spins) {
        if (spins % 1024 == 0) {
          std::this_thread::yield();
        } else {
          WorkerPool::pause_briefly();
        }
      }
      if (t == 0) std::fill(out.begin() + begin, out.begin() + end, T{0});
      for (std::size_t w = first; w < last; ++w) add_piece(w, begin, end);
      progress[k].store(static_cast<std::uint32_t>(t + 1), std::memory_order_release);
    }
  });
}

// out = ((0 + weight·v_0) + weight·v_1) + … per coordinate, as add_scaled would in a loop over
// w = 0, 1, … (so +0 where every v_w is +0, never −0). vectors[w].size() == out.size().
template <class T>
void chained_sum(WorkerPool& pool, std::span<const std::span<const T>> vectors, T weight,
                 std::span<T> out) {
  const auto& kernels = elementwise<T>();
  chained_sum_of<T>(pool, vectors.size(), out,
                    [&](std::size_t w, std::size_t begin, std::size_t end) {
                      kernels.add_scaled(out.data() + begin, weight, vectors[w].data() + begin,
                                         out.data() + begin, end - begin);
                    });
}

}  // namespace gradcomp
