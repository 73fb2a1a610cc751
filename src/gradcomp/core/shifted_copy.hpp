#pragma once
// The copy of a bit stream to a bit offset that PresizedBitWriter::write_words makes, over many
// words in the CPU's widest vectors (core/shifted_copy.cpp).
#include <cstddef>
#include <cstdint>

namespace gradcomp {

// `words` 64-bit little-endian words of `from` xor `flip` to `to`, each shifted up by `shift`
// (≤ 7) with the bits `below` it (the previous word's top `shift` bits; `below` for the first),
// then the last word's top `shift` bits stored as a word after them; returns those bits.
// Little-endian hosts only. Runs the kernel compiled for the best instruction set this CPU has.
std::uint64_t copy_shifted_words_wide(std::uint8_t* to, const std::uint8_t* from, std::size_t words,
                                      unsigned shift, std::uint64_t below, std::uint64_t flip);

}  // namespace gradcomp
