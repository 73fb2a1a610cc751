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
  out.reserve(out.size() + bits / 8 + 1);  // the exact size is known: no reallocation while writing
  BitWriter writer(out);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    writer.write(plans[p].tag(), 8);
    write_indices(writer, parts[p].indices, parts[p].segment.size, plans[p]);
  }
  writer.flush();
}

std::vector<std::size_t> read_sparse_indices(ByteReader& reader, std::span<const Segment> segments,
                                             std::span<const std::size_t> counts) {
  BitReader bits(reader.rest());
  std::vector<std::size_t> global;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const auto tag = static_cast<std::uint8_t>(bits.read(8));
    read_indices(bits, tag, counts[s], segments[s].size, segments[s].offset, global);
  }
  reader.skip(bits.align());
  return global;
}

}  // namespace gradcomp
