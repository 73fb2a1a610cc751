// gradcomp.Layout: the named blocks (layers) of one flat vector. From shapes, from a PyTorch
// module's named_parameters(), from a layout JSON file, or one flat block.
#include "gradcomp/core/layout.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp::python {

namespace {

std::vector<std::size_t> shape_of(const py::handle& shape, const std::string& name) {
  std::vector<std::size_t> dims;
  for (const py::handle dim : shape) {
    const auto value = dim.cast<long long>();
    require(value >= 0, "Layout: layer '{}' has the negative dimension {}; shapes count elements",
            name, value);
    dims.push_back(static_cast<std::size_t>(value));
  }
  return dims;
}

// A layer given as (name, shape) or as a shape alone (named layer<i>).
Block block_of(const py::handle& layer, std::size_t index) {
  const bool named = py::isinstance<py::tuple>(layer) && py::len(layer) == 2 &&
                     py::isinstance<py::str>(layer[py::int_(0)]);
  Block block;
  block.name = named ? layer[py::int_(0)].cast<std::string>() : fmt::format("layer{}", index);
  const py::handle shape = named ? layer[py::int_(1)] : layer;
  require(py::isinstance<py::iterable>(shape) && !py::isinstance<py::str>(shape),
          "Layout.from_shapes: layer {} is not a shape nor a (name, shape) pair; give e.g. "
          "[(\"fc1.weight\", (128, 784)), (\"fc1.bias\", (128,))]",
          index);
  block.shape = shape_of(shape, block.name);
  if (block.shape.empty()) block.shape = {1};  // a scalar parameter: one element
  return block;
}

Layout from_layers(const py::iterable& layers) {
  std::vector<Block> blocks;
  for (const py::handle layer : layers) blocks.push_back(block_of(layer, blocks.size()));
  return Layout::tile(std::move(blocks));  // sizes and offsets, checked
}

Layout from_module(const py::handle& module) {
  require(py::hasattr(module, "named_parameters"),
          "Layout.from_module: a {} has no named_parameters(); give a torch.nn.Module",
          py::str(py::type::handle_of(module).attr("__qualname__")).cast<std::string>());
  py::list layers;
  for (const py::handle pair : module.attr("named_parameters")()) {
    layers.append(py::make_tuple(pair[py::int_(0)], pair[py::int_(1)].attr("shape")));
  }
  return from_layers(layers);
}

std::string describe(const Layout& layout) {
  std::vector<std::string> parts;
  for (const Block& block : layout.blocks()) {
    parts.push_back(fmt::format("{}{}", block.name, block.shape));
  }
  return fmt::format("Layout({} elements: {})", layout.total_size(), fmt::join(parts, ", "));
}

bool same(const Layout& a, const Layout& b) {
  if (a.block_count() != b.block_count()) return false;
  for (std::size_t i = 0; i < a.block_count(); ++i) {
    const Block &x = a.blocks()[i], &y = b.blocks()[i];
    if (x.name != y.name || x.shape != y.shape) return false;
  }
  return true;
}

}  // namespace

void bind_layout(py::module_& module) {
  py::class_<Layout>(module, "Layout",
                     "The named blocks (layers) of one flat vector, in order. Layer-wise "
                     "compressors compress each block on its own.")
      .def_static("from_shapes", &from_layers, py::arg("layers"),
                  "Consecutive blocks from [(name, shape), ...] or [shape, ...] (named layer0, "
                  "layer1, ...).")
      .def_static("from_module", &from_module, py::arg("module"),
                  "One block per parameter of a torch.nn.Module, in named_parameters() order.")
      .def_static("from_json", &Layout::from_json_file, py::arg("path"),
                  "Reads {\"layers\": [{\"name\": ..., \"shape\": [...]}, ...]}, as "
                  "`gradcomp inspect --layout` does.")
      .def_static("flat", &Layout::flat, py::arg("size"), "One block holding the whole vector.")
      .def_property_readonly("size", &Layout::total_size, "Elements in all blocks.")
      .def_property_readonly(
          "blocks",
          [](const Layout& layout) {
            py::list blocks;
            for (const Block& b : layout.blocks()) {
              blocks.append(py::make_tuple(b.name, b.offset, b.size, py::tuple(py::cast(b.shape))));
            }
            return blocks;
          },
          "[(name, offset, size, shape), ...]")
      .def("__len__", &Layout::block_count)
      .def("__eq__", &same)
      .def("__repr__", &describe);
}

}  // namespace gradcomp::python
