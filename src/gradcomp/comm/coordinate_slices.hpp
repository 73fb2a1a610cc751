#pragma once
// [0, size) cut into contiguous slices for a WorkerPool round over coordinates (summing every
// worker's vector slice by slice, an elementwise update): about kTarget coordinates each, as many
// as a multiple of the threads, and of widths that differ by at most one, so that each thread's
// share is the same work. Fixed slices of 4,096 cut a 5,000-coordinate vector into 4,096 + 904 on
// two threads: one thread did 82% of the round while the other waited. A pass shorter than
// kSplitMinimum is one slice, run by the caller alone.
#include <algorithm>
#include <cstddef>

namespace gradcomp {

class CoordinateSlices {
 public:
  static constexpr std::size_t kTarget = 4096;
  // Below this many coordinates one slice: a pass this short takes a few microseconds, less than
  // splitting it costs in lines moved between cores (dist-ef-blocksgdm's model update at d =
  // 5,000: 1.1 µs on one thread, 5.5 µs in two slices on two, docs/benchmarks.md).
  static constexpr std::size_t kSplitMinimum = 32768;

  CoordinateSlices(std::size_t size, std::size_t threads) : size_(size) {
    if (size < kSplitMinimum) {
      count_ = std::min<std::size_t>(size, 1);
      return;
    }
    threads = std::max<std::size_t>(threads, 1);
    const std::size_t rounds = (size + threads * kTarget - 1) / (threads * kTarget);
    count_ = std::min(size, threads * rounds);  // none empty
  }

  [[nodiscard]] std::size_t count() const { return count_; }
  // Slice s is [s·size/count, (s + 1)·size/count).
  [[nodiscard]] std::size_t begin(std::size_t slice) const { return slice * size_ / count_; }
  [[nodiscard]] std::size_t end(std::size_t slice) const { return (slice + 1) * size_ / count_; }

 private:
  std::size_t size_;
  std::size_t count_ = 0;
};

}  // namespace gradcomp
