#pragma once
// Checkpoints (docs/outputs.md "Checkpoints"): every rank writes its algorithm state — the model,
// its workers' errors, momenta and shifts, and on rank 0 the server's state — as one binary file
// per rank, atomically; rank 0 adds the trainer's running totals as JSON. Randomness and the
// data position are functions of the step (counter-based streams), so the step is all that is
// needed to continue: a resumed run ends bit-identical to one that never stopped.
//
// File layout (little-endian): "GCCKPT2\n", u64 step, u32 buffer count, then per buffer
// u32 name length, the name, u8 element size (4 or 8), u64 element count, the elements; then
// u32 scalar count and the scalars as f64 (the algorithm's running totals); last the u64 FNV-1a
// checksum of every byte before it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/algo/algorithm.hpp"

namespace gradcomp {

std::string checkpoint_path(const std::string& run_directory, std::size_t rank);

template <class T>
void save_checkpoint(const std::string& path, std::uint64_t step,
                     const std::vector<StateBuffer<T>>& buffers, std::span<const double> scalars);

// Fills every buffer from the file and returns its step. InvalidInput naming the file when it is
// missing, corrupt (its checksum), of another precision, or holds other buffers (another
// configuration).
template <class T>
std::uint64_t load_checkpoint(const std::string& path, const std::vector<StateBuffer<T>>& buffers,
                              std::vector<double>& scalars);

}  // namespace gradcomp
