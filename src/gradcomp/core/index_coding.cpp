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

namespace {

constexpr unsigned kMaxRiceBits = 40;

// Exact Rice sizes for b = first, first + 1, first + 2 in one pass: Σ (gap >> b) + count·(1 + b).
// The sums stay in 32 bits (each is at most Σ gap < segment size ≤ 2^32 − 1), so the loop over
// independent gaps vectorises. A shift of 32 or more gives 0 (the mask), not undefined behaviour.
std::array<std::uint64_t, 3> rice_sizes(std::span<const std::uint32_t> sorted, unsigned first) {
  std::array<std::uint64_t, 3> quotients{};
  if (sorted.empty()) return quotients;
  std::array<unsigned, 3> shift{};
  std::array<std::uint32_t, 3> keep{};
  for (unsigned j = 0; j < 3; ++j) {
    shift[j] = std::min(first + j, 31U);
    keep[j] = first + j < 32 ? ~std::uint32_t{0} : 0;
  }
  std::uint32_t q0 = (sorted[0] >> shift[0]) & keep[0];
  std::uint32_t q1 = (sorted[0] >> shift[1]) & keep[1];
  std::uint32_t q2 = (sorted[0] >> shift[2]) & keep[2];
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const std::uint32_t gap = sorted[i] - sorted[i - 1] - 1;
    q0 += (gap >> shift[0]) & keep[0];
    q1 += (gap >> shift[1]) & keep[1];
    q2 += (gap >> shift[2]) & keep[2];
  }
  quotients = {q0, q1, q2};
  for (unsigned j = 0; j < 3; ++j) quotients[j] += sorted.size() * (1 + first + j);
  return quotients;
}

}  // namespace

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
  return best.bits < fixed.bits ? best : fixed;
}

namespace {

// Before the output is sized from it: a corrupt count may not allocate more than the segment.
void check_count(std::size_t count, std::size_t segment_size) {
  require<DecodeError>(count <= segment_size,
                       "message corrupt: {} indices in a segment of {} elements", count,
                       segment_size);
}

// Decodes `count` (checked) indices into out[i] = offset + index. The reader is copied into a local
// and written back at the end, and `out` is restrict: otherwise every store of an index might
// change the reader, whose window would be reloaded from memory for every code word.
template <class Index>
void decode_indices(BitReader& shared_reader, std::uint8_t tag, std::size_t count,
                    std::size_t segment_size, std::size_t offset, Index* __restrict out) {
  BitReader reader = shared_reader;
  const bool rice = (tag & 0x80U) != 0;
  const unsigned b = tag & 0x3FU;
  require<DecodeError>((tag & 0x40U) == 0 && b <= kMaxRiceBits,
                       "message corrupt: index coding tag {:#04x} is not valid", tag);
  if (!rice) {
    require<DecodeError>(b == 0, "message corrupt: index coding tag {:#04x} is not valid", tag);
    const unsigned width = bits_for_index(segment_size);
    std::uint64_t previous_end = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t index = reader.read(width);
      require<DecodeError>(index >= previous_end && index < segment_size,
                           "message corrupt: index {} out of order or outside a segment of {}",
                           index, segment_size);
      out[i] = static_cast<Index>(offset + index);
      previous_end = index + 1;
    }
    shared_reader = reader;
    return;
  }
  const std::uint64_t longest_run = segment_size >> b;
  std::uint64_t previous_end = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t index = previous_end + reader.read_rice(b, longest_run);
    require<DecodeError>(index < segment_size, "message corrupt: index {} outside a segment of {}",
                         index, segment_size);
    out[i] = static_cast<Index>(offset + index);
    previous_end = index + 1;
  }
  shared_reader = reader;
}

}  // namespace

void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::vector<std::uint32_t>& out) {
  out.clear();
  check_count(count, segment_size);
  out.resize(count);
  decode_indices(reader, tag, count, segment_size, 0, out.data());
}

void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::size_t offset, std::vector<std::size_t>& out) {
  check_count(count, segment_size);
  const std::size_t at = out.size();
  out.resize(at + count);
  decode_indices(reader, tag, count, segment_size, offset, out.data() + at);
}

}  // namespace gradcomp
