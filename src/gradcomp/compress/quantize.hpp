#pragma once
// Shared pieces of the stochastic quantizers (QSGD, TernGrad, stochastic rounding): each
// coordinate rounds up with probability p using one 32-bit number of the worker's private stream
// (ALGORITHMS.md §1.3: unbiased quantizers use independent per-worker streams).
#include <array>
#include <cstdint>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

// True with probability p ∈ [0, 1] given a uniform 32-bit u (resolution 2^−32).
inline bool round_up(std::uint32_t u, double p) { return static_cast<double>(u) < p * 4294967296.0; }

// Draws the uniforms of a segment in chunks so the quantizing loops stay branch-free.
class UniformChunks {
 public:
  static constexpr std::size_t kChunk = 1024;
  UniformChunks(const StepContext& context, const Segment& segment, Purpose purpose)
      : stream_(context.seed, purpose, context.step, static_cast<std::uint32_t>(segment.layer),
                context.worker) {}
  // Numbers for coordinates [start, start + count) of the segment, count ≤ kChunk, in order.
  const std::uint32_t* next(std::size_t count) {
    stream_.fill(buffer_.data(), count);
    return buffer_.data();
  }

 private:
  RandomStream stream_;
  std::array<std::uint32_t, kChunk> buffer_{};
};

}  // namespace gradcomp
