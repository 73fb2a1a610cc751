#pragma once
// RBGS, random block-wise gradient sparsification ([DEF]; docs/compressors.md §2.3.6): per segment
// one block of k_l = max(1, ⌊d_l / r⌋) consecutive coordinates starting at a shared uniform
// s_{t,l}, wrapping around the end of the segment.
#include <cstddef>
#include <span>

#include "gradcomp/compress/compressor.hpp"

namespace gradcomp {

std::size_t rbgs_block_size(std::size_t segment_size, double ratio);
// The start index s_{t,l}: the same on every worker at step t (shared stream, worker-independent).
std::size_t rbgs_start(const StepContext& context, const Segment& segment);

// Coordinate j of the block starting at `start` of a segment of n: (start + j) mod n.
inline std::size_t rbgs_position(std::size_t start, std::size_t j, std::size_t n) {
  const std::size_t p = start + j;
  return p >= n ? p - n : p;
}

}  // namespace gradcomp
