// Shared pieces of the stochastic quantizers (QSGD, TernGrad, stochastic rounding): each
// coordinate rounds up with probability p using one 32-bit number of the worker's private stream
// (docs/compressors.md §1.3: unbiased quantizers use independent per-worker streams).
// A per-target header (core/simd_masks-inl.hpp says why): the lanes below vectorise with the
// widest vectors of each instruction set, and give the same numbers on all of them.
#if defined(GRADCOMP_COMPRESS_QUANTIZE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRADCOMP_COMPRESS_QUANTIZE_INL_H_
#undef GRADCOMP_COMPRESS_QUANTIZE_INL_H_
#else
#define GRADCOMP_COMPRESS_QUANTIZE_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/random.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {

// True with probability p ∈ [0, 1] given a uniform 32-bit u (resolution 2^−32).
inline bool round_up(std::uint32_t u, double p) {
  return static_cast<double>(u) < p * 4294967296.0;
}

// Hands out the uniforms of a segment in order. The stream is counter-based between chunks and
// sequential inside one: chunk c of kChunk numbers takes a 64-bit key from Philox (the worker's
// stream at position c); the key seeds 16 lanes of xoshiro128** (Blackman and Vigna; multiply-
// free, full-quality 32-bit output), and number j of the chunk is step j/16 of lane j mod 16.
// The quantizers need one number per coordinate: Philox alone cost about 12 ms per 25M numbers,
// a keyed hash per number 6 ms, the 16 lanes 3.3 ms (docs/benchmarks.md). Lanes are a fixed 16
// whatever the vector width, so every instruction set draws the same numbers.
class UniformChunks {
 public:
  static constexpr std::size_t kChunk = 1280;  // a multiple of 64, of 16 and of 5
  static constexpr std::size_t kLanes = 16;
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
      fill_chunk(key0, key1, buffer_.data() + left);
      filled_ = left + kChunk;
      used_ = 0;
    }
    const std::uint32_t* piece = buffer_.data() + used_;
    used_ += count;
    return piece;
  }

  // kChunk numbers of the chunk keyed (key0, key1): the 4 × 16 state words are the keyed hash
  // of 0..63 (an all-zero lane, probability 2⁻¹²⁸, gets s0 = 1), then 80 steps of the lanes.
  static void fill_chunk(std::uint32_t key0, std::uint32_t key1, std::uint32_t* out) {
    std::uint32_t state[4 * kLanes];
    hash_uniforms(key0, key1, state, 4 * kLanes);
    std::uint32_t* s0 = state;
    std::uint32_t* s1 = state + kLanes;
    std::uint32_t* s2 = state + 2 * kLanes;
    std::uint32_t* s3 = state + 3 * kLanes;
    for (std::size_t l = 0; l < kLanes; ++l) {
      if ((s0[l] | s1[l] | s2[l] | s3[l]) == 0) s0[l] = 1;
    }
    for (std::size_t i = 0; i < kChunk; i += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) {  // xoshiro128**, one step per lane
        out[i + l] = std::rotl(s1[l] * 5, 7) * 9;
        const std::uint32_t t = s1[l] << 9;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = std::rotl(s3[l], 11);
      }
    }
  }

  // out[j] = h(φ·(j ⊕ key1) + key0), h the 32-bit integer hash "lowbias32" of C. Wellons
  // (xorshift-multiply, full avalanche): the seeds of the lanes. The inputs are distinct (j ⊕ key1
  // permutes the positions, φ is odd) and spread over all bits. Plain integer code: it vectorises.
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

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // GRADCOMP_COMPRESS_QUANTIZE_INL_H_
