#include "gradcomp/compress/sparse_codec.hpp"

#include <array>

namespace gradcomp {

void write_sparse_indices(std::vector<std::uint8_t>& out, std::span<const SparseSegment> parts,
                          IndexChoice choice) {
  // The plans on the stack for up to 16 parts (one per layer, or the model's one), in a vector
  // beyond: every worker's encode of every step plans its indices here, and a vector for them
  // was a heap allocation each time.
  std::array<IndexPlan, 16> on_stack{};
  std::vector<IndexPlan> on_heap(parts.size() > on_stack.size() ? parts.size() : 0);
  const std::span<IndexPlan> plans =
      on_heap.empty() ? std::span<IndexPlan>(on_stack).first(parts.size()) : on_heap;
  std::uint64_t bits = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    plans[p] = plan_indices(parts[p].indices, parts[p].segment.size, choice);
    bits += 8 + plans[p].bits;
  }
  // The exact size is known: write into it, with the 8 bytes of slack the writer stores past
  // its last byte, then trim.
  const std::size_t at = out.size();
  const std::size_t bytes = (bits + 7) / 8;
  out.resize(at + bytes + 8);
  PresizedBitWriter writer(out.data() + at);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    writer.write(plans[p].tag(), 8);
    write_indices(writer, parts[p].indices, parts[p].segment.size, plans[p], parts[p].support);
  }
  require<InternalError>(writer.bytes() == bytes, "sparse indices took {} bytes, planned {}",
                         writer.bytes(), bytes);
  out.resize(at + bytes);
}

}  // namespace gradcomp
