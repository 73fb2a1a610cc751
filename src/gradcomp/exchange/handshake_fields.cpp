#include "gradcomp/exchange/handshake_fields.hpp"

#include <fmt/format.h>

namespace gradcomp {

namespace {

// FNV-1a over every block's name and shape: layouts that differ anywhere differ here.
std::uint64_t layout_hash(const Layout& layout) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
  };
  for (const Block& block : layout.blocks()) {
    mix(block.name);
    mix(fmt::format("[{}]", fmt::join(block.shape, ",")));
  }
  return hash;
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
