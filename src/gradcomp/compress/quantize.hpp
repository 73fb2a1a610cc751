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
inline bool round_up(std::uint32_t u, double p) {
  return static_cast<double>(u) < p * 4294967296.0;
}

// Hands out the uniforms of a segment in order. The stream is counter-based in two levels:
// chunk c of kChunk numbers takes a 64-bit key from Philox (the worker's stream at position c),
// and number j of the chunk is a keyed 32-bit hash of j (hash_uniforms below). The quantizers need
// one number per coordinate; Philox alone costs more than the rest of their encode (about 12 ms
// per 25M numbers), the keyed hash vectorises to a few instructions per 16 numbers.
class UniformChunks {
 public:
  static constexpr std::size_t kChunk = 1280;  // a multiple of 64 and of 5
  UniformChunks(const StepContext& context, const Segment& segment, Purpose purpose)
      : stream_(context.seed, purpose, context.step, static_cast<std::uint32_t>(segment.layer),
                context.worker) {}
  // The next `count` ≤ kChunk numbers.
  const std::uint32_t* next(std::size_t count) {
    if (used_ + count > filled_) {
      const std::size_t left = filled_ - used_;
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(used_),
                buffer_.begin() + static_cast<std::ptrdiff_t>(filled_), buffer_.begin());
      const std::uint32_t key0 = stream_.next_u32();
      const std::uint32_t key1 = stream_.next_u32();
      hash_uniforms(key0, key1, buffer_.data() + left, kChunk);
      filled_ = left + kChunk;
      used_ = 0;
    }
    const std::uint32_t* piece = buffer_.data() + used_;
    used_ += count;
    return piece;
  }

  // out[j] = h(φ·(j ⊕ key1) + key0), h the 32-bit integer hash "lowbias32" of C. Wellons
  // (xorshift-multiply, full avalanche). The inputs of a chunk are distinct (j ⊕ key1 permutes
  // the positions, φ is odd) and spread over all bits. Plain integer code: the loop vectorises.
  static void hash_uniforms(std::uint32_t key0, std::uint32_t key1, std::uint32_t* out,
                            std::size_t count) {
    for (std::size_t j = 0; j < count; ++j) {
      std::uint32_t x = (static_cast<std::uint32_t>(j) ^ key1) * 0x9E3779B9U + key0;
      x ^= x >> 16;
      x *= 0x21F0AAADU;
      x ^= x >> 15;
      x *= 0x735A2D97U;
      x ^= x >> 15;
      out[j] = x;
    }
  }

 private:
  RandomStream stream_;
  std::array<std::uint32_t, 2 * kChunk> buffer_{};
  std::size_t filled_ = 0;
  std::size_t used_ = 0;
};

}  // namespace gradcomp
