#pragma once
// Parameters and helpers shared by several compressors.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/core/message.hpp"
#include "gradcomp/core/per_element_type.hpp"

namespace gradcomp {

inline ParamSpec values_param() {
  return choice_param("values", "auto", {"auto", "fp32", "fp16", "fp64"},
                      "wire format of values and scales; auto = fp32 for float input, fp64 for "
                      "double input");
}
inline ParamSpec index_param() {
  return choice_param("index", "auto", {"auto", "fixed", "rice"},
                      "index coding: fixed ceil(log2 n)-bit, rice-coded gaps, or auto: the "
                      "smaller, but the bitmap (rice b=0) while within 1/8 of it, and rice of "
                      "b>=1 in the split layout (docs/wire-format.md)");
}
inline ParamSpec scope_param(std::string def) {
  return choice_param("scope", std::move(def), {"model", "layer"},
                      "apply to the whole model or to each layer of the layout separately");
}
inline Scope parse_scope(const std::string& text) {
  return text == "layer" ? Scope::kLayer : Scope::kModel;
}

// A value after a round trip through the wire format: what the decoder will read. Scales and
// norms are used as sent, so that encoder and decoder agree on them.
template <class T>
T value_as_sent(T value, ValueFormat format) {
  std::vector<std::uint8_t> bytes;
  append_value<T>(bytes, value, format);
  ByteReader reader(bytes);
  return read_value<T>(reader, format);
}

inline double fraction(std::size_t part, std::size_t whole) {
  return static_cast<double>(part) / static_cast<double>(whole);
}

// How many coordinates a segment of n keeps for a count k or a density ratio (docs/compressors.md
// §2.3.3: k_l = max(1, ⌊ρ·d_l⌋), never more than n, none for an empty segment).
struct KeepCount {
  std::size_t k = 0;  // used when ratio is 0
  double ratio = 0;
  [[nodiscard]] std::size_t of(std::size_t n) const {
    if (n == 0) return 0;
    if (ratio > 0) {
      return std::min(n, std::max<std::size_t>(1, static_cast<std::size_t>(
                                                      std::floor(ratio * static_cast<double>(n)))));
    }
    return std::min(n, k);
  }
};

// The kept count of every segment, in order.
inline std::vector<std::size_t> keep_counts(const std::vector<Segment>& segments, KeepCount keep) {
  std::vector<std::size_t> counts;
  counts.reserve(segments.size());
  for (const Segment& s : segments) counts.push_back(keep.of(s.size));
  return counts;
}

// The "k" / "ratio" pair of the sparsifiers (read back with parse_keep_count).
inline ParamSpec k_param() {
  return int_param("k", "", 0, 4294967295.0, "coordinates kept per segment (instead of ratio)");
}
inline ParamSpec ratio_param() {
  return real_param("ratio", "", 0, 1, "density: k_l = max(1, floor(ratio d_l)); default 0.01",
                    true);
}

// Reads the "k" / "ratio" pair: exactly one may be given; ratio defaults to `default_ratio`.
inline KeepCount parse_keep_count(const std::string& owner, const Params& params,
                                  double default_ratio) {
  require(!(params.given("k") && params.given("ratio")),
          "{}: give either k (a count) or ratio (a density), not both", owner);
  if (params.given("k")) return KeepCount{static_cast<std::size_t>(params.integer("k")), 0};
  return KeepCount{0, params.given("ratio") ? params.real("ratio") : default_ratio};
}

}  // namespace gradcomp
