#include "gradcomp/compress/topk_select.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "gradcomp/core/prefetch.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/core/simd_masks.hpp"

namespace gradcomp {

namespace {

template <class T>
using MagnitudeBits = simd::MagnitudeBits<T>;
using simd::magnitude_bits;

template <class T>
struct Candidate {
  MagnitudeBits<T> bits;  // the element's bits, sign included
  [[nodiscard]] MagnitudeBits<T> magnitude() const { return bits & (~MagnitudeBits<T>{0} >> 1); }
  std::uint32_t index;
};

// The k-th largest magnitude (1 ≤ k ≤ size): a histogram of the top 12 magnitude bits finds the
// bucket that holds it, and only that bucket is searched (radix select, one level).
template <class T>
MagnitudeBits<T> kth_largest_magnitude(const std::vector<Candidate<T>>& candidates, std::size_t k) {
  using Bits = MagnitudeBits<T>;
  constexpr unsigned kBucketBits = 12;
  constexpr unsigned kShift = 8 * sizeof(Bits) - 1 - kBucketBits;  // the sign bit is always 0
  std::vector<std::uint32_t> histogram(std::size_t{1} << kBucketBits, 0);
  for (const auto& c : candidates) ++histogram[static_cast<std::size_t>(c.magnitude() >> kShift)];
  std::size_t bucket = histogram.size();
  std::size_t above = 0;
  while (bucket-- > 0 && above + histogram[bucket] < k) above += histogram[bucket];
  std::vector<Bits> inside;
  inside.reserve(histogram[bucket]);
  for (const auto& c : candidates) {
    if (static_cast<std::size_t>(c.magnitude() >> kShift) == bucket)
      inside.push_back(c.magnitude());
  }
  const auto kth = inside.begin() + static_cast<std::ptrdiff_t>(k - above - 1);
  std::nth_element(inside.begin(), kth, inside.end(), std::greater<>());
  return *kth;
}

// Exact selection among candidates (collected in ascending index order): find the k-th under
// (|v| desc, index asc), then keep, in index order, the candidates that come before or at it.
// Filtering instead of sorting the k indices keeps the 1% case linear.
template <class T>
void finish(const std::vector<Candidate<T>>& candidates, std::size_t k,
            std::vector<std::uint32_t>& indices, std::vector<T>* values) {
  indices.clear();
  if (k == 0) return;
  // The k-th largest magnitude m: everything above it is kept, and of the elements equal to it
  // the ones with the smallest indices, as many as are still needed.
  const MagnitudeBits<T> pivot = kth_largest_magnitude(candidates, std::min(k, candidates.size()));
  std::size_t above = 0;
  for (const auto& c : candidates) above += c.magnitude() > pivot ? 1 : 0;
  std::size_t ties_wanted = std::min(k, candidates.size()) - above;
  indices.reserve(k);
  if (values != nullptr) values->reserve(values->size() + k);
  for (const auto& c : candidates) {
    const bool keep = c.magnitude() > pivot || (c.magnitude() == pivot && ties_wanted > 0);
    if (!keep) continue;
    if (c.magnitude() == pivot) --ties_wanted;
    indices.push_back(c.index);
    if (values != nullptr) values->push_back(std::bit_cast<T>(c.bits));
  }
}

// Every element with magnitude_bits ≥ bound (NaN and infinity included whenever
// bound ≤ kInfinityBits). Float input goes through the vector compress kernel in chunks; sparse
// bounds first skip 64-element blocks that hold no candidate.
template <class T>
void collect_at_least(std::span<const T> x, MagnitudeBits<T> bound, bool dense,
                      std::vector<Candidate<T>>& candidates) {
  candidates.clear();
  const T* data = x.data();
  const std::size_t whole = x.size() - x.size() % simd::kBlock;
  if constexpr (std::is_same_v<T, float>) {
    if (bound != 0) {
      constexpr std::size_t kChunk = 4096;
      std::uint32_t values[kChunk + 64], indices[kChunk + 64];
      for (std::size_t start = 0; start < whole; start += kChunk) {
        const std::size_t count = std::min(kChunk, whole - start);
        std::size_t found = 0;
        // Prefetch (core/prefetch.hpp) a few lines per piece, interleaved with the work: a
        // burst per chunk fills the line buffers and stalls on them.
        if (dense) {
          constexpr std::size_t kPiece = 256;
          for (std::size_t p = 0; p < count; p += kPiece) {
            const std::size_t n = std::min(kPiece, count - p);
            prefetch_ahead(data, start + p, n, x.size());
            found += simd::compress_at_least(data + start + p, n, bound,
                                             static_cast<std::uint32_t>(start + p), values + found,
                                             indices + found);
          }
        } else {
          for (std::size_t b = 0; b < count; b += simd::kBlock) {
            prefetch_ahead(data, start + b, simd::kBlock, x.size());
            if (!simd::any_magnitude_at_least(data + start + b, bound)) continue;
            found += simd::compress_at_least(data + start + b, simd::kBlock, bound,
                                             static_cast<std::uint32_t>(start + b), values + found,
                                             indices + found);
          }
        }
        const std::size_t at = candidates.size();
        candidates.resize(at + found);  // capacity is kept between calls: no per-item checks
        for (std::size_t j = 0; j < found; ++j) candidates[at + j] = {values[j], indices[j]};
      }
      for (std::size_t i = whole; i < x.size(); ++i) {
        if (magnitude_bits(data[i]) >= bound) {
          candidates.push_back(
              {std::bit_cast<MagnitudeBits<T>>(data[i]), static_cast<std::uint32_t>(i)});
        }
      }
      return;
    }
  }
  const bool test_first = bound != 0 && !dense;
  for (std::size_t start = 0; start < whole; start += simd::kBlock) {
    if (test_first && !simd::any_magnitude_at_least(data + start, bound)) continue;
    for (auto mask = simd::magnitude_at_least_mask(data + start, bound); mask != 0;
         mask &= mask - 1) {
      const std::size_t i = start + std::countr_zero(mask);
      candidates.push_back(
          {std::bit_cast<MagnitudeBits<T>>(data[i]), static_cast<std::uint32_t>(i)});
    }
  }
  for (std::size_t i = whole; i < x.size(); ++i) {
    if (magnitude_bits(data[i]) >= bound) {
      candidates.push_back(
          {std::bit_cast<MagnitudeBits<T>>(data[i]), static_cast<std::uint32_t>(i)});
    }
  }
}

template <class T>
bool all_finite(const std::vector<Candidate<T>>& candidates) {
  bool finite = true;
  for (const auto& c : candidates) finite = finite && c.magnitude() < simd::kInfinityBits<T>;
  return finite;
}

constexpr std::size_t kRuns = 256;
constexpr std::size_t kRunLength = 256;
constexpr std::size_t kSampledMinimum = std::size_t{1} << 16;

// A magnitude that at least k elements reach with high probability, judged from a sample.
template <class T>
MagnitudeBits<T> sampled_bound(std::span<const T> x, std::size_t k, std::size_t attempt,
                               std::uint64_t seed_key) {
  const std::size_t n = x.size();
  std::vector<MagnitudeBits<T>> sample;
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
  const auto position = sample.begin() + static_cast<std::ptrdiff_t>(rank);
  std::nth_element(sample.begin(), position, sample.end(), std::greater<>());
  return *position;
}

}  // namespace

template <class T>
bool select_top_k(std::span<const T> x, std::size_t k, std::uint64_t seed_key,
                  std::vector<std::uint32_t>& indices, std::vector<T>* values) {
  const std::size_t n = x.size();
  k = std::min(k, n);
  // Kept between calls (per thread) so a training loop does not allocate and page-fault the
  // candidate buffer every step; released when it grew beyond 16 MiB.
  thread_local std::vector<Candidate<T>> candidates;
  struct Release {
    std::vector<Candidate<T>>& buffer;
    ~Release() {
      if (buffer.capacity() * sizeof(Candidate<T>) > (std::size_t{16} << 20)) {
        std::vector<Candidate<T>>().swap(buffer);
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
      if (candidates.size() >= k) break;
    }
  }
  if (!all_finite(candidates)) return false;
  finish<T>(candidates, k, indices, values);
  return true;
}

template bool select_top_k<float>(std::span<const float>, std::size_t, std::uint64_t,
                                  std::vector<std::uint32_t>&, std::vector<float>*);
template bool select_top_k<double>(std::span<const double>, std::size_t, std::uint64_t,
                                   std::vector<std::uint32_t>&, std::vector<double>*);

}  // namespace gradcomp
