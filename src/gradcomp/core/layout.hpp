#pragma once
// Layout: the named blocks (layers) of one flat parameter buffer (docs/architecture.md).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

struct Block {
  std::string name;
  std::size_t offset = 0;
  std::size_t size = 0;
  std::vector<std::size_t> shape;  // product equals size; {size} for a vector

  // Rows and columns of the block seen as a matrix: first dimension × the rest (PowerSGD's view).
  [[nodiscard]] std::size_t rows() const { return shape.empty() ? size : shape.front(); }
  [[nodiscard]] std::size_t cols() const { return rows() == 0 ? 0 : size / rows(); }
  [[nodiscard]] bool is_matrix() const { return shape.size() >= 2 && rows() > 1 && cols() > 1; }
};

class Layout {
 public:
  // The most elements a layout may hold: a message's length field has 32 bits
  // (docs/wire-format.md).
  static constexpr std::size_t kMaxElements = 0xFFFF'FFFF;

  Layout() = default;
  // Blocks must tile [0, total) in order, without gaps or overlaps, and hold at most kMaxElements;
  // an element count that overflows is bad input (InvalidInput), never a wrapped-around size.
  explicit Layout(std::vector<Block> blocks);

  // One block holding the whole vector.
  static Layout flat(std::size_t size);
  // Consecutive blocks with the given shapes, named layer0, layer1, ...
  static Layout from_shapes(const std::vector<std::vector<std::size_t>>& shapes);
  // Reads {"layers": [{"name": "fc1.weight", "shape": [128, 784]}, ...]}.
  static Layout from_json_file(const std::string& path);
  // Consecutive blocks given by name and shape: fills their sizes and offsets, checked.
  static Layout tile(std::vector<Block> blocks);

  [[nodiscard]] std::size_t total_size() const { return total_size_; }
  [[nodiscard]] std::span<const Block> blocks() const { return blocks_; }
  [[nodiscard]] std::size_t block_count() const { return blocks_.size(); }
  // The block containing element `index` (for error messages).
  [[nodiscard]] const Block& block_of(std::size_t index) const;

 private:
  std::vector<Block> blocks_;
  std::size_t total_size_ = 0;
};

// A contiguous piece of the vector that a compressor treats as one unit.
struct Segment {
  std::size_t offset = 0;
  std::size_t size = 0;
  std::size_t layer = 0;  // index of the first block it covers; keys the random streams
};

// How a compressor cuts the vector: the whole model, each layer, or fixed-size blocks.
enum class Scope { kModel, kLayer, kFixed };

std::vector<Segment> make_segments(const Layout& layout, Scope scope, std::size_t fixed_size = 0);

// visit(segment) for each segment make_segments lists, in its order, without building the list:
// for a compressor that walks them on every encode and decode.
template <class Visit>
void for_each_segment(const Layout& layout, Scope scope, std::size_t fixed_size, Visit&& visit) {
  switch (scope) {
    case Scope::kModel:
      visit(Segment{0, layout.total_size(), 0});
      return;
    case Scope::kLayer:
      for (std::size_t l = 0; l < layout.block_count(); ++l) {
        const Block& b = layout.blocks()[l];
        visit(Segment{b.offset, b.size, l});
      }
      return;
    case Scope::kFixed: {
      require<InternalError>(fixed_size > 0, "fixed segments need a positive size");
      const std::size_t d = layout.total_size();
      for (std::size_t start = 0, i = 0; start < d; start += fixed_size, ++i) {
        visit(Segment{start, std::min(fixed_size, d - start), i});
      }
      return;
    }
  }
}

}  // namespace gradcomp
