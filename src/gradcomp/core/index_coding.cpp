#include "gradcomp/core/index_coding.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace gradcomp {

IndexChoice parse_index_choice(std::string_view text) {
  if (text == "auto") return IndexChoice::kAuto;
  if (text == "fixed") return IndexChoice::kFixed;
  if (text == "rice") return IndexChoice::kRice;
  throw InternalError(fmt::format("index coding '{}' passed validation", text));
}

unsigned bits_for_index(std::size_t segment_size) {
  return segment_size <= 1 ? 0U : static_cast<unsigned>(std::bit_width(segment_size - 1));
}

IndexPlan plan_indices(std::span<const std::uint32_t> sorted, std::size_t segment_size,
                       IndexChoice choice) {
  const IndexPlan fixed{false, 0, std::uint64_t{bits_for_index(segment_size)} * sorted.size()};
  if (choice == IndexChoice::kFixed || sorted.empty()) return fixed;
  // The best b for geometric gaps of mean m is about log₂(m·ln 2); try its neighbours exactly.
  const double mean_gap = static_cast<double>(segment_size) / static_cast<double>(sorted.size());
  const int guess = static_cast<int>(std::floor(std::log2(std::max(1.0, mean_gap * 0.6931))));
  const auto first =
      static_cast<unsigned>(std::clamp(guess - 1, 0, static_cast<int>(kMaxRiceBits) - 2));
  const auto sizes = rice_sizes(sorted, first);
  IndexPlan best{true, 0, ~0ULL};
  for (unsigned j = 0; j < 3; ++j) {
    if (sizes[j] < best.bits) best = IndexPlan{true, first + j, sizes[j]};
  }
  if (choice == IndexChoice::kRice) return best;
  if (first == 0 && best.rice_bits != 0 && sizes[0] - best.bits <= best.bits / kBitmapSlack) {
    best = IndexPlan{true, 0, sizes[0]};
  }
  // Rice from b = 1 on is sent split: the same bits, and a decode about 1.5× as fast where the
  // CPU has AVX-512 VBMI (compress/sparse_decode.cpp; docs/benchmarks.md).
  best.split = best.rice_bits != 0 && sorted.size() >= kSplitMinimum;
  return best.bits < fixed.bits ? best : fixed;
}

void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::vector<std::uint32_t>& out) {
  out.clear();
  require<DecodeError>(count <= segment_size,  // before the output is sized from it
                       "message corrupt: {} indices in a segment of {} elements", count,
                       segment_size);
  out.resize(count);
  for_each_index(reader, tag, count, segment_size, [&](std::size_t k, std::uint64_t index) {
    out[k] = static_cast<std::uint32_t>(index);
  });
}

}  // namespace gradcomp
