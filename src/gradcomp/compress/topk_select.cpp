#include "gradcomp/compress/topk_select.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "gradcomp/core/prefetch.hpp"
#include "gradcomp/core/random.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp); select_top_k runs the best one
// this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/topk_select.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

namespace {

template <class T>
using MagnitudeBits = simd::MagnitudeBits<T>;
using simd::magnitude_bits;

template <class T>
constexpr MagnitudeBits<T> kMagnitudeMask = ~MagnitudeBits<T>{0} >> 1;

// The candidates as a structure of arrays, in ascending index order: the vector compress kernel
// writes both arrays directly, and the selection passes read only the bits until the last one.
// The arrays only grow (they are kept between calls); `size` counts the valid entries.
template <class T>
struct Candidates {
  std::vector<MagnitudeBits<T>> bits;  // the element's bits, sign included
  std::vector<std::uint32_t> indices;
  std::size_t size = 0;

  // Room for `more` entries past `size`.
  void make_room(std::size_t more) {
    if (size + more <= bits.size()) return;
    const std::size_t grown = std::max(size + more, 2 * bits.size());
    bits.resize(grown);
    indices.resize(grown);
  }
  void push(T value, std::size_t index) {
    make_room(1);
    bits[size] = std::bit_cast<MagnitudeBits<T>>(value);
    indices[size++] = static_cast<std::uint32_t>(index);
  }
  [[nodiscard]] MagnitudeBits<T> magnitude(std::size_t i) const {
    return bits[i] & kMagnitudeMask<T>;
  }
};

// Every element with magnitude_bits ≥ bound (NaN and infinity included whenever
// bound ≤ kInfinityBits). Float input goes through the vector compress kernel in chunks; sparse
// bounds first skip 64-element blocks that hold no candidate.
template <class T>
void collect_at_least(std::span<const T> x, MagnitudeBits<T> bound, bool dense,
                      Candidates<T>& candidates) {
  candidates.size = 0;
  const T* data = x.data();
  const std::size_t whole = x.size() - x.size() % simd::kBlock;
  std::size_t start = 0;
  if constexpr (std::is_same_v<T, float>) {
    constexpr std::size_t kChunk = 4096;
    constexpr std::size_t kPiece = 256;
    for (; bound != 0 && start < whole; start += kChunk) {
      const std::size_t count = std::min(kChunk, whole - start);
      candidates.make_room(count + simd::kBlock);  // the kernel writes up to a vector past the end
      std::uint32_t* values = candidates.bits.data() + candidates.size;
      std::uint32_t* indices = candidates.indices.data() + candidates.size;
      std::size_t found = 0;
      // Prefetch (core/prefetch.hpp) a few lines per piece, interleaved with the work: a burst
      // per chunk fills the line buffers and stalls on them.
      const std::size_t step = dense ? kPiece : simd::kBlock;
      for (std::size_t p = 0; p < count; p += step) {
        const std::size_t n = std::min(step, count - p);
        prefetch_ahead(data, start + p, n, x.size());
        if (!dense && !simd::any_magnitude_at_least(data + start + p, bound)) continue;
        found += simd::compress_at_least(data + start + p, n, bound,
                                         static_cast<std::uint32_t>(start + p), values + found,
                                         indices + found);
      }
      candidates.size += found;
    }
  }
  const bool test_first = bound != 0 && !dense;
  for (; start < whole; start += simd::kBlock) {
    if (test_first && !simd::any_magnitude_at_least(data + start, bound)) continue;
    for (auto mask = simd::magnitude_at_least_mask(data + start, bound); mask != 0;
         mask &= mask - 1) {
      const std::size_t i = start + std::countr_zero(mask);
      candidates.push(data[i], i);
    }
  }
  for (std::size_t i = whole; i < x.size(); ++i) {
    if (magnitude_bits(data[i]) >= bound) candidates.push(data[i], i);
  }
}

// The k-th largest of count magnitudes (1 ≤ k ≤ count), and how many are above it and equal to
// it, and the largest. Radix select, one level: a histogram of the top magnitude bits (sized to
// the count, so the bucket that holds the k-th is small) finds that bucket, and only the bucket is
// searched; the counts above and equal follow from the histogram and the bucket.
template <class Bits>
struct KthLargest {
  Bits kth = 0;
  std::size_t above = 0;  // magnitudes > kth
  std::size_t equal = 0;  // magnitudes == kth
  Bits highest = 0;
};

template <class Bits, class MagnitudeAt>
KthLargest<Bits> kth_largest(std::size_t count, std::size_t k, MagnitudeAt magnitude_at) {
  const auto bucket_bits =
      static_cast<unsigned>(std::clamp(static_cast<int>(std::bit_width(count)) - 2, 8, 16));
  const unsigned shift = 8 * sizeof(Bits) - 1 - bucket_bits;  // the sign bit is always 0
  thread_local std::vector<std::uint32_t> histogram;
  histogram.assign(std::size_t{1} << bucket_bits, 0);
  KthLargest<Bits> result;
  for (std::size_t i = 0; i < count; ++i) {
    const Bits m = magnitude_at(i);
    result.highest = std::max(result.highest, m);
    ++histogram[static_cast<std::size_t>(m >> shift)];
  }
  std::size_t bucket = histogram.size();
  while (bucket-- > 0 && result.above + histogram[bucket] < k) result.above += histogram[bucket];
  thread_local std::vector<Bits> inside;
  inside.resize(histogram[bucket]);
  std::size_t filled = 0;
  for (std::size_t i = 0; i < count && filled < inside.size(); ++i) {
    const Bits m = magnitude_at(i);
    if (static_cast<std::size_t>(m >> shift) == bucket) inside[filled++] = m;
  }
  const auto kth = inside.begin() + static_cast<std::ptrdiff_t>(k - result.above - 1);
  std::nth_element(inside.begin(), kth, inside.end(), std::greater<>());
  result.kth = *kth;
  // nth_element leaves the larger ones before the k-th and the rest after it.
  result.above += static_cast<std::size_t>(
      std::count_if(inside.begin(), kth, [&](Bits m) { return m > result.kth; }));
  result.equal = static_cast<std::size_t>(std::count(inside.begin(), inside.end(), result.kth));
  return result;
}

// Exact selection among the candidates: find the k-th under (|v| desc, index asc), then keep, in
// index order, the candidates that come before or at it. Filtering instead of sorting the k
// indices keeps the 1% case linear. Returns false when a candidate is NaN or infinite.
template <class T>
bool finish(const Candidates<T>& candidates, std::size_t k, std::vector<std::uint32_t>& indices,
            std::vector<T>* values) {
  indices.clear();
  if (candidates.size == 0) return true;
  // The pass that finds the k-th also finds the largest magnitude: a NaN or infinity among the
  // candidates is at least the bits of +infinity.
  const auto pivot =
      kth_largest<MagnitudeBits<T>>(candidates.size, std::max<std::size_t>(1, k),
                                    [&](std::size_t i) { return candidates.magnitude(i); });
  if (pivot.highest >= simd::kInfinityBits<T>) return false;
  if (k == 0) return true;
  // Everything above the k-th magnitude m is kept, and of the elements equal to it the ones with
  // the smallest indices, as many as are still needed. Usually every tie is needed (a single one
  // equals m), and the keep pass is a branch-free filter.
  std::size_t ties_wanted = k - pivot.above;
  indices.resize(k);
  std::size_t first_value = 0;
  if (values != nullptr) {
    first_value = values->size();
    values->resize(first_value + k);
  }
  std::uint32_t* out_index = indices.data();
  T* out_value = values != nullptr ? values->data() + first_value : nullptr;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < candidates.size && kept < k; ++i) {
    const MagnitudeBits<T> m = candidates.magnitude(i);
    bool keep = m >= pivot.kth;
    if (m == pivot.kth && ties_wanted < pivot.equal) {  // too many ties: the smallest indices win
      keep = ties_wanted > 0;
      ties_wanted -= keep ? 1 : 0;
    }
    out_index[kept] = candidates.indices[i];
    if (out_value != nullptr) out_value[kept] = std::bit_cast<T>(candidates.bits[i]);
    kept += keep ? 1 : 0;
  }
  return true;
}

constexpr std::size_t kRuns = 256;
constexpr std::size_t kRunLength = 256;
constexpr std::size_t kSampledMinimum = std::size_t{1} << 16;

// A magnitude that at least k elements reach with high probability, judged from a sample.
template <class T>
MagnitudeBits<T> sampled_bound(std::span<const T> x, std::size_t k, std::size_t attempt,
                               std::uint64_t seed_key) {
  const std::size_t n = x.size();
  thread_local std::vector<MagnitudeBits<T>> sample;
  sample.clear();
  sample.reserve(kRuns * kRunLength);
  RandomStream stream(seed_key, Purpose::kTopKSample, attempt, 0, 0);
  for (std::size_t r = 0; r < kRuns; ++r) {
    const std::size_t start = stream.below(n - kRunLength + 1);
    for (std::size_t i = start; i < start + kRunLength; ++i) sample.push_back(magnitude_bits(x[i]));
  }
  const double m = static_cast<double>(sample.size());
  const double expected = static_cast<double>(k) / static_cast<double>(n) * m;
  // Aim 5% and 4 standard deviations (and more on each retry) above the expected sample rank.
  const double slack = std::pow(4.0, static_cast<double>(attempt));
  const double rank =
      std::ceil(expected * (1.0 + 0.05 * slack) + 4.0 * slack * std::sqrt(expected) + 4.0 * slack);
  if (rank >= m) return 0;
  return kth_largest<MagnitudeBits<T>>(sample.size(), static_cast<std::size_t>(rank) + 1,
                                       [&](std::size_t i) { return sample[i]; })
      .kth;
}

template <class T>
bool select(std::span<const T> x, std::size_t k, std::uint64_t seed_key,
            std::vector<std::uint32_t>& indices, std::vector<T>* values) {
  const std::size_t n = x.size();
  k = std::min(k, n);
  // Kept between calls (per thread) so a training loop does not allocate and page-fault the
  // candidate buffer every step; released when it grew beyond 16 MiB.
  thread_local Candidates<T> candidates;
  struct Release {
    Candidates<T>& buffer;
    ~Release() {
      if (buffer.bits.size() * (sizeof(MagnitudeBits<T>) + 4) > (std::size_t{16} << 20)) {
        buffer = Candidates<T>{};
      }
    }
  } release{candidates};
  if (k == n || n < kSampledMinimum || k > n / 16) {
    collect_at_least<T>(x, 0, true, candidates);
  } else {
    // A bound above a NaN in the sample still collects that NaN, so non-finite input is seen on
    // every path; a bound that keeps fewer than k is lowered until it keeps enough.
    for (std::size_t attempt = 0;; ++attempt) {
      collect_at_least(x, sampled_bound(x, k, attempt, seed_key), k > n / 256, candidates);
      if (candidates.size >= k) break;
    }
  }
  return finish<T>(candidates, k, indices, values);
}

}  // namespace

bool select_top_k_float(std::span<const float> x, std::size_t k, std::uint64_t seed_key,
                        std::vector<std::uint32_t>& indices, std::vector<float>* values) {
  return select(x, k, seed_key, indices, values);
}
bool select_top_k_double(std::span<const double> x, std::size_t k, std::uint64_t seed_key,
                         std::vector<std::uint32_t>& indices, std::vector<double>* values) {
  return select(x, k, seed_key, indices, values);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(select_top_k_float);
HWY_EXPORT(select_top_k_double);

template <>
bool select_top_k<float>(std::span<const float> x, std::size_t k, std::uint64_t seed_key,
                         std::vector<std::uint32_t>& indices, std::vector<float>* values) {
  return HWY_DYNAMIC_DISPATCH(select_top_k_float)(x, k, seed_key, indices, values);
}
template <>
bool select_top_k<double>(std::span<const double> x, std::size_t k, std::uint64_t seed_key,
                          std::vector<std::uint32_t>& indices, std::vector<double>* values) {
  return HWY_DYNAMIC_DISPATCH(select_top_k_double)(x, k, seed_key, indices, values);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
