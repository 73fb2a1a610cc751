#include "gradcomp/core/layout.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {
std::size_t product(const std::vector<std::size_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}
}  // namespace

Layout::Layout(std::vector<Block> blocks) : blocks_(std::move(blocks)) {
  std::size_t next = 0;
  for (auto& block : blocks_) {
    if (block.shape.empty()) block.shape = {block.size};
    require(block.offset == next,
            "layout: block '{}' starts at {} but the previous block ends at {}", block.name,
            block.offset, next);
    require(product(block.shape) == block.size,
            "layout: block '{}' has size {} but its shape holds {} elements", block.name,
            block.size, product(block.shape));
    next += block.size;
  }
  total_size_ = next;
}

Layout Layout::flat(std::size_t size) {
  return Layout({Block{"all", 0, size, {size}}});
}

Layout Layout::from_shapes(const std::vector<std::vector<std::size_t>>& shapes) {
  std::vector<Block> blocks;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const std::size_t size = product(shapes[i]);
    blocks.push_back(Block{fmt::format("layer{}", i), offset, size, shapes[i]});
    offset += size;
  }
  return Layout(std::move(blocks));
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
  std::size_t offset = 0;
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
    block.size = product(block.shape);
    block.offset = offset;
    offset += block.size;
    blocks.push_back(std::move(block));
  }
  require(!blocks.empty(), "layout file '{}' lists no layers", path);
  return Layout(std::move(blocks));
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
  switch (scope) {
    case Scope::kModel:
      segments.push_back(Segment{0, layout.total_size(), 0});
      break;
    case Scope::kLayer:
      for (std::size_t l = 0; l < layout.block_count(); ++l) {
        const Block& b = layout.blocks()[l];
        segments.push_back(Segment{b.offset, b.size, l});
      }
      break;
    case Scope::kFixed: {
      require<InternalError>(fixed_size > 0, "fixed segments need a positive size");
      const std::size_t d = layout.total_size();
      for (std::size_t start = 0, i = 0; start < d; start += fixed_size, ++i) {
        segments.push_back(Segment{start, std::min(fixed_size, d - start), i});
      }
      break;
    }
  }
  return segments;
}

}  // namespace gradcomp
