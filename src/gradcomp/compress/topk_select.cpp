#include "gradcomp/compress/topk_select.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

// |v| as an unsigned integer: for finite values the order of magnitudes is the integer order.
template <class T>
using MagnitudeBits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;

template <class T>
MagnitudeBits<T> magnitude_bits(T value) {
  using Bits = MagnitudeBits<T>;
  return std::bit_cast<Bits>(value) & (~Bits{0} >> 1);
}

template <class T>
struct Candidate {
  MagnitudeBits<T> magnitude;
  std::uint32_t index;
};

// Exact selection among candidates, then ascending indices.
template <class T>
void finish(std::vector<Candidate<T>>& candidates, std::size_t k,
            std::vector<std::uint32_t>& indices) {
  auto before = [](const Candidate<T>& a, const Candidate<T>& b) {
    return a.magnitude != b.magnitude ? a.magnitude > b.magnitude : a.index < b.index;
  };
  if (k < candidates.size()) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
                     candidates.end(), before);
    candidates.resize(k);
  }
  indices.resize(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) indices[i] = candidates[i].index;
  std::sort(indices.begin(), indices.end());
}

template <class T>
void collect_at_least(std::span<const T> x, MagnitudeBits<T> bound,
                      std::vector<Candidate<T>>& candidates) {
  candidates.clear();
  const T* data = x.data();
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto m = magnitude_bits(data[i]);
    if (m >= bound) candidates.push_back({m, static_cast<std::uint32_t>(i)});
  }
}

constexpr std::size_t kRuns = 64;
constexpr std::size_t kRunLength = 1024;
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
  // Aim 4 standard deviations (and more on each retry) above the expected sample rank.
  const double slack = std::pow(4.0, static_cast<double>(attempt));
  const double rank = std::ceil(expected * (1.0 + 0.25 * slack) + 4.0 * slack * std::sqrt(expected) +
                                4.0 * slack);
  if (rank >= m) return 0;
  const auto position = sample.begin() + static_cast<std::ptrdiff_t>(rank);
  std::nth_element(sample.begin(), position, sample.end(), std::greater<>());
  return *position;
}

}  // namespace

template <class T>
void select_top_k(std::span<const T> x, std::size_t k, std::uint64_t seed_key,
                  std::vector<std::uint32_t>& indices) {
  const std::size_t n = x.size();
  k = std::min(k, n);
  std::vector<Candidate<T>> candidates;
  if (k == n || n < kSampledMinimum || k > n / 16) {
    collect_at_least<T>(x, 0, candidates);
    finish<T>(candidates, k, indices);
    return;
  }
  for (std::size_t attempt = 0;; ++attempt) {
    const auto bound = sampled_bound(x, k, attempt, seed_key);
    collect_at_least(x, bound, candidates);
    if (candidates.size() >= k) break;  // the bound is at or below the k-th magnitude: exact
  }
  finish<T>(candidates, k, indices);
}

template void select_top_k<float>(std::span<const float>, std::size_t, std::uint64_t,
                                  std::vector<std::uint32_t>&);
template void select_top_k<double>(std::span<const double>, std::size_t, std::uint64_t,
                                   std::vector<std::uint32_t>&);

}  // namespace gradcomp
