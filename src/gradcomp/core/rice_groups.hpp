#pragma once
// Golomb–Rice code words built four at a time with the CPU's widest vectors (the sparse encode's
// index words; core/index_coding.hpp writes them).
#include <cstddef>
#include <cstdint>

namespace gradcomp {

// The longest group of four code words written as one: PresizedBitWriter's widest field.
constexpr std::uint64_t kJoinedRiceBits = 56;

// For each whole group of four gaps gaps[4k .. 4k + 3] (k < groups): their four Rice code words
// of parameter b (q = gap >> b ones, a zero, the b low bits; first word lowest) joined into
// codes[k], and the group's length in bits, Σ (q + 1 + b), in lengths[k]. When lengths[k] >
// kJoinedRiceBits, codes[k] is not the group's: its words are written one by one. b ≤ 13 (four
// words of at least b + 1 bits fit the joined width).
// Runs the kernel compiled for the best instruction set this CPU has (Highway's dynamic dispatch).
void join_rice_groups(const std::uint64_t* gaps, std::size_t groups, unsigned b,
                      std::uint64_t* codes, std::uint64_t* lengths);

}  // namespace gradcomp
