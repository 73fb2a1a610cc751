#pragma once
// Counter-based random streams (docs/compressors.md §1.3 "Shared seed").
// A stream is a pure function of (seed, purpose, step, layer, worker, position): Philox4x32-10
// (Salmon et al., SC'11) with the stream's identity in the key and counter. Two workers that build
// the same stream draw the same numbers with no communication; no state is carried between steps,
// so results never depend on the order in which workers or processes run.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

// What the numbers are for; keeps streams of different uses independent under one seed.
enum class Purpose : std::uint32_t {
  kRbgsStart = 1,
  kRandKIndices = 2,
  kQuantize = 3,
  kSketch = 4,
  kPowerSgdInit = 5,
  kRounding = 6,
  kTopKSample = 7,
  kData = 8,        // synthetic data sets
  kPartition = 9,   // splitting samples over workers
  kBatch = 10,      // minibatch sampling
  kModelInit = 11,  // initial weights
  kTest = 99,
};

// Worker id of streams every worker must share (shared-seed compressors).
inline constexpr std::uint32_t kSharedWorker = 0xFFFFFFFFU;

struct PhiloxBlock {
  std::uint32_t v[4];
};

inline PhiloxBlock philox4x32(PhiloxBlock counter, std::uint32_t key0, std::uint32_t key1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53U, kMul1 = 0xCD9E8D57U;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9U, kWeyl1 = 0xBB67AE85U;
  std::uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t{kMul0} * c0;
    const std::uint64_t p1 = std::uint64_t{kMul1} * c2;
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// SplitMix64 finaliser: spreads (seed, purpose, high step bits) over the 64-bit key.
inline std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The seed of a quantizer's streams under the run's seed: an algorithm that sends both a compressed
// and a quantized vector (ef-bc, ec-sgd-diana) draws the two from independent streams even when
// compressor and quantizer are the same kind (randk and randk draw the same purpose).
inline std::uint64_t quantizer_seed(std::uint64_t run_seed) {
  constexpr std::uint64_t kQuantizerSalt = 0x51554E54495A4552ULL;  // "QUNTIZER"
  return mix64(run_seed ^ kQuantizerSalt);
}

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::uint32_t layer,
               std::uint32_t worker) {
    const std::uint64_t key = mix64(
        seed ^ mix64((std::uint64_t{static_cast<std::uint32_t>(purpose)} << 32) ^ (step >> 32)));
    key0_ = static_cast<std::uint32_t>(key);
    key1_ = static_cast<std::uint32_t>(key >> 32);
    counter_ = {{0, layer, worker, static_cast<std::uint32_t>(step)}};
  }

  std::uint32_t next_u32() {
    if (available_ == 0) refill();
    return buffer_.v[4 - available_--];
  }
  std::uint64_t next_u64() {
    const std::uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform on {0, ..., n − 1} without bias (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t n) {
    require<InternalError>(n > 0, "random draw below 0");
    if (n <= 0xFFFFFFFFULL) {
      const auto bound = static_cast<std::uint32_t>(n);
      std::uint64_t product = std::uint64_t{next_u32()} * bound;
      auto low = static_cast<std::uint32_t>(product);
      if (low < bound) {
        const std::uint32_t threshold = static_cast<std::uint32_t>(-bound) % bound;
        while (low < threshold) {
          product = std::uint64_t{next_u32()} * bound;
          low = static_cast<std::uint32_t>(product);
        }
      }
      return product >> 32;
    }
    // Rare: a segment longer than 2^32 elements; rejection on the next power of two.
    const std::uint64_t mask = ~0ULL >> std::countl_zero(n - 1);
    for (;;) {
      const std::uint64_t candidate = next_u64() & mask;
      if (candidate < n) return candidate;
    }
  }
  // Standard normal by Box–Muller (both values of a pair are not kept: streams stay seekable).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  void refill() {
    buffer_ = philox4x32(counter_, key0_, key1_);
    ++counter_.v[0];
    available_ = 4;
  }

  PhiloxBlock counter_{};
  PhiloxBlock buffer_{};
  std::uint32_t key0_ = 0, key1_ = 0;
  unsigned available_ = 0;
};

}  // namespace gradcomp
