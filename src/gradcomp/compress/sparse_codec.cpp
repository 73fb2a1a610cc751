#include "gradcomp/compress/sparse_codec.hpp"

namespace gradcomp {

void write_sparse_indices(std::vector<std::uint8_t>& out, std::span<const SparseSegment> parts,
                          IndexChoice choice) {
  std::vector<IndexPlan> plans;
  plans.reserve(parts.size());
  std::uint64_t bits = 0;
  for (const auto& part : parts) {
    plans.push_back(plan_indices(part.indices, part.segment.size, choice));
    bits += 8 + plans.back().bits;
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
