#pragma once
// Shared pieces of the stochastic quantizers (QSGD, TernGrad, stochastic rounding): each
// coordinate rounds up with probability p using one 32-bit number of the worker's private stream
// (ALGORITHMS.md §1.3: unbiased quantizers use independent per-worker streams).
#include <algorithm>
#include <array>
#include <cstdint>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

// True with probability p ∈ [0, 1] given a uniform 32-bit u (resolution 2^−32).
inline bool round_up(std::uint32_t u, double p) { return static_cast<double>(u) < p * 4294967296.0; }

// Hands out the uniforms of a segment in order, drawn kChunk at a time (so the vectorised Philox
// path is used) however small the pieces asked for.
class UniformChunks {
 public:
  static constexpr std::size_t kChunk = 1280;  // a multiple of 64 and of 5
  UniformChunks(const StepContext& context, const Segment& segment, Purpose purpose)
      : stream_(context.seed, purpose, context.step, static_cast<std::uint32_t>(segment.layer),
                context.worker) {}
  // The next `count` ≤ kChunk numbers of the stream.
  const std::uint32_t* next(std::size_t count) {
    if (used_ + count > filled_) {
      const std::size_t left = filled_ - used_;
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(used_),
                buffer_.begin() + static_cast<std::ptrdiff_t>(filled_), buffer_.begin());
      stream_.fill(buffer_.data() + left, kChunk);
      filled_ = left + kChunk;
      used_ = 0;
    }
    const std::uint32_t* piece = buffer_.data() + used_;
    used_ += count;
    return piece;
  }

 private:
  RandomStream stream_;
  std::array<std::uint32_t, 2 * kChunk> buffer_{};
  std::size_t filled_ = 0;
  std::size_t used_ = 0;
};

}  // namespace gradcomp
