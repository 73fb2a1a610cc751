#pragma once
// The Golomb–Rice code's loops over a sparse message's indices, run with the CPU's widest vectors:
// the exact sizes the encoder chooses b from, and the code words four at a time
// (core/index_coding.hpp plans and writes them).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gradcomp {

// The exact Rice sizes in bits of `sorted`'s gaps (the first index's gap counts from 0) for
// b = first, first + 1, first + 2: Σ (gap >> b) + count·(1 + b). A b of 32 or more gives every
// gap a quotient of 0.
std::array<std::uint64_t, 3> rice_sizes(std::span<const std::uint32_t> sorted, unsigned first);

// The longest group of four code words written as one: PresizedBitWriter's widest field.
constexpr std::uint64_t kJoinedRiceBits = 56;

// For each whole group of four indices sorted[4k .. 4k + 3] (k < groups): the Rice code words of
// parameter b of their four gaps (q = gap >> b ones, a zero, then the gap's `low_bits` low bits:
// b for Rice, 0 for the quotients' stream of split Rice; first word lowest) joined into codes[k],
// and the group's length in bits, Σ (q + 1 + low_bits), in lengths[k]. The gaps are
// sorted[m] − sorted[m − 1] − 1 in 32-bit arithmetic: sorted[−1] is read, and a segment's first
// index takes 0xFFFFFFFF there (its gap is then the index). When lengths[k] > kJoinedRiceBits,
// codes[k] is not the group's: its words are written one by one. low_bits ≤ 13 (four words of at
// least low_bits + 1 bits fit the joined width), b ≤ 63.
// Runs the kernel compiled for the best instruction set this CPU has (Highway's dynamic dispatch).
void join_rice_groups(const std::uint32_t* sorted, std::size_t groups, unsigned b,
                      unsigned low_bits, std::uint64_t* codes, std::uint64_t* lengths);

// The widest b split_rice_steps takes: four remainders in one 64-bit lane, within the joined width.
constexpr unsigned kJoinedRemainderBits = kJoinedRiceBits / 4;

// Split Rice's two parts of `steps` whole steps of eight indices, sorted[8s .. 8s + 7] (s < steps;
// gaps as join_rice_groups takes them, sorted[−1] read). Step s's remainders, the b low bits of
// its eight gaps (first lowest; 8b bits, exactly b bytes), are stored at remainders + b·s; the
// stores reach up to 16 bytes past the last step's start. Its quotients' unary words (q ones and a
// zero) are joined into unary_codes[s], first lowest, with their length Σ (q + 1) in
// unary_lengths[s], where a quotient over 31 counts 64 (the vectors join in 32-bit lanes); when
// that length is over kJoinedRiceBits the word is not the step's (its indices are written one by
// one). b ≤ kJoinedRemainderBits; with b = 0 nothing is stored at `remainders` (Rice of b = 0 is
// its unary words alone).
void split_rice_steps(const std::uint32_t* sorted, std::size_t steps, unsigned b,
                      std::uint8_t* remainders, std::uint64_t* unary_codes,
                      std::uint64_t* unary_lengths);

}  // namespace gradcomp
