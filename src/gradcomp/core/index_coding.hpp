#pragma once
// Coding of the sorted coordinate indices of a sparse message (docs/wire-format.md "Indices").
// Two codes, chosen per segment by the encoder and named in one byte of the message:
//   fixed: each index in ⌈log₂ n⌉ bits;
//   rice:  each gap (index − previous index − 1) Golomb–Rice coded with parameter b: the quotient
//          gap >> b in unary, then the b low bits. Near-optimal for the geometric gaps of a random
//          or scattered support: about log₂(1/density) + 1.5 bits per index instead of log₂ n.
// `auto` computes both exact sizes and keeps the smaller one.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gradcomp/core/bit_stream.hpp"

namespace gradcomp {

enum class IndexChoice { kAuto, kFixed, kRice };
IndexChoice parse_index_choice(std::string_view text);

struct IndexPlan {
  bool rice = false;
  unsigned rice_bits = 0;  // b
  std::uint64_t bits = 0;  // exact size of the coded indices
  // One byte on the wire: bit 7 set for rice, low 6 bits b.
  [[nodiscard]] std::uint8_t tag() const {
    return static_cast<std::uint8_t>((rice ? 0x80U : 0U) | rice_bits);
  }
};

unsigned bits_for_index(std::size_t segment_size);  // ⌈log₂ n⌉, 0 for n ≤ 1

IndexPlan plan_indices(std::span<const std::uint32_t> sorted, std::size_t segment_size,
                       IndexChoice choice);
void write_indices(BitWriter& writer, std::span<const std::uint32_t> sorted,
                   std::size_t segment_size, const IndexPlan& plan);
// Reads `count` indices coded with `tag`; checks they are strictly increasing and < segment_size.
void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::vector<std::uint32_t>& out);
// The same, appending offset + index to `out` (a message's global indices, segment by segment).
void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::size_t offset, std::vector<std::size_t>& out);

}  // namespace gradcomp
