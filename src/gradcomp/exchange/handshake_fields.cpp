#include "gradcomp/exchange/handshake_fields.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gradcomp/core/fnv_hash.hpp"

namespace gradcomp {

namespace {

// Every block's name and shape: layouts that differ anywhere differ here.
std::uint64_t layout_hash(const Layout& layout) {
  FnvHash hash;
  for (const Block& block : layout.blocks()) {
    hash.add_text(block.name).add_text(fmt::format("[{}]", fmt::join(block.shape, ",")));
  }
  return hash.value();
}

}  // namespace

std::vector<HandshakeField> exchange_fields(const WorkerGroup& workers, const Layout& layout,
                                            const Compressor& compressor, Pattern pattern,
                                            std::string_view value_type) {
  return {
      {"gradcomp version", GRADCOMP_VERSION},
      {"number of workers", std::to_string(workers.total)},
      {"model size", std::to_string(layout.total_size())},
      {"layout", fmt::format("{} layers, hash {:016x}", layout.block_count(), layout_hash(layout))},
      {"compressor", compressor.spec()},
      {"exchange pattern", std::string(pattern_name(pattern))},
      {"value type", std::string(value_type)},
  };
}

}  // namespace gradcomp
