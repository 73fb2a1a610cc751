#pragma once
// Exact Top-k selection (docs/compressors.md §2.3.3, tie-break §1.3: larger |v| first, then the
// smaller index). The result equals taking the first k of a full sort by (|v| desc, index asc).
//
// Large inputs take a sampled path: the magnitudes of 256 random runs of 256 elements bracket the
// k-th largest magnitude from below; one filtering pass keeps the candidates at or above that
// bound; an exact selection among the candidates finishes. If the bound keeps fewer than k
// candidates (an unlucky sample) the pass is repeated with a lower bound, so the result is exact
// whatever the sample.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace gradcomp {

// Indices (ascending) of the k largest-magnitude elements of x, and, when `values` is given, their
// values appended in the same order (taken from the candidates, not re-read from x). Returns
// false, with the outputs unspecified, if x holds a NaN or an infinity (the filtering pass notices
// them for free).
// `seed_key` keys the sample positions only; the result does not depend on it.
template <class T>
[[nodiscard]] bool select_top_k(std::span<const T> x, std::size_t k, std::uint64_t seed_key,
                                std::vector<std::uint32_t>& indices,
                                std::vector<T>* values = nullptr);
// Defined for float and double (each runs the kernels of the best instruction set of the CPU).
template <>
bool select_top_k<float>(std::span<const float> x, std::size_t k, std::uint64_t seed_key,
                         std::vector<std::uint32_t>& indices, std::vector<float>* values);
template <>
bool select_top_k<double>(std::span<const double> x, std::size_t k, std::uint64_t seed_key,
                          std::vector<std::uint32_t>& indices, std::vector<double>* values);

}  // namespace gradcomp
