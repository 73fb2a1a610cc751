#include "gradcomp/core/layout.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "gradcomp/core/checked_size.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

Layout::Layout(std::vector<Block> blocks) : blocks_(std::move(blocks)) {
  std::size_t next = 0;
  for (auto& block : blocks_) {
    if (block.shape.empty()) block.shape = {block.size};
    const std::optional<std::size_t> count = checked_product(block.shape);
    require(count.has_value(),
            "layout: layer '{}' has shape {}, whose element count overflows 64 bits; give the "
            "layer's real shape",
            block.name, block.shape);
    require(block.offset == next,
            "layout: block '{}' starts at {} but the previous block ends at {}", block.name,
            block.offset, next);
    require(*count == block.size, "layout: block '{}' has size {} but its shape holds {} elements",
            block.name, block.size, *count);
    const std::optional<std::size_t> end = checked_add(next, block.size);
    require(end.has_value() && *end <= kMaxElements,
            "layout: the layers up to '{}' hold {} elements, more than the {} (2^32 − 1) a message "
            "can address (its length field has 32 bits); split the model into parts below that",
            block.name, end ? fmt::format("{}", *end) : std::string("2^64 or more"), kMaxElements);
    next = *end;
  }
  total_size_ = next;
}

Layout Layout::flat(std::size_t size) {
  return Layout({Block{"all", 0, size, {size}}});
}

Layout Layout::tile(std::vector<Block> blocks) {
  std::size_t offset = 0;
  for (Block& block : blocks) {
    const std::optional<std::size_t> count = checked_product(block.shape);
    require(count.has_value(),
            "layout: layer '{}' has shape {}, whose element count overflows 64 bits; give the "
            "layer's real shape",
            block.name, block.shape);
    block.size = *count;
    block.offset = offset;
    // The sum may overflow only past the limit the constructor reports; saturate to reach it.
    offset = checked_add(offset, block.size).value_or(std::numeric_limits<std::size_t>::max());
  }
  return Layout(std::move(blocks));
}

Layout Layout::from_shapes(const std::vector<std::vector<std::size_t>>& shapes) {
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    blocks.push_back(Block{fmt::format("layer{}", i), 0, 0, shapes[i]});
  }
  return tile(std::move(blocks));
}

Layout Layout::from_json_file(const std::string& path) {
  std::ifstream in(path);
  require(in.good(),
          "layout file '{}' cannot be opened; give a JSON file "
          "{{\"layers\": [{{\"name\": ..., \"shape\": [...]}}]}}",
          path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("layout file '{}' is not valid JSON: {}", path, e.what()));
  }
  require(doc.is_object() && doc.contains("layers") && doc["layers"].is_array(),
          "layout file '{}' needs a top-level object with a \"layers\" array", path);
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < doc["layers"].size(); ++i) {
    const auto& layer = doc["layers"][i];
    require(layer.is_object() && layer.contains("shape") && layer["shape"].is_array(),
            "layout file '{}': layer {} needs a \"shape\" array of non-negative integers", path, i);
    Block block;
    block.name = layer.value("name", fmt::format("layer{}", i));
    for (const auto& dim : layer["shape"]) {
      require(dim.is_number_unsigned(),
              "layout file '{}': layer '{}' has a shape entry that is not a non-negative integer",
              path, block.name);
      block.shape.push_back(dim.get<std::size_t>());
    }
    blocks.push_back(std::move(block));
  }
  require(!blocks.empty(), "layout file '{}' lists no layers", path);
  try {
    return tile(std::move(blocks));
  } catch (const InvalidInput& e) {  // "layout: ..." becomes "layout file 'F': ..."
    std::string_view what = e.what();
    if (what.starts_with("layout: ")) what.remove_prefix(8);
    throw InvalidInput(fmt::format("layout file '{}': {}", path, what));
  }
}

const Block& Layout::block_of(std::size_t index) const {
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), index,
                             [](std::size_t i, const Block& b) { return i < b.offset + b.size; });
  require<InternalError>(it != blocks_.end(), "index {} is outside the layout of {} elements",
                         index, total_size_);
  return *it;
}

std::vector<Segment> make_segments(const Layout& layout, Scope scope, std::size_t fixed_size) {
  std::vector<Segment> segments;
  for_each_segment(layout, scope, fixed_size,
                   [&](const Segment& segment) { segments.push_back(segment); });
  return segments;
}

}  // namespace gradcomp
