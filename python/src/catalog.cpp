// list_compressors(), list_algorithms(), list_schedules(): the catalog `gradcomp list --json`
// prints; inspect(): the reports of `gradcomp inspect --json`, as dicts.
#include "gradcomp/algo/catalog.hpp"

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "gradcomp/compress/inspect.hpp"
#include "gradcomp/compress/registry.hpp"
#include "vector_view.hpp"

namespace gradcomp::python {

namespace {

py::object from_json(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

py::object catalog_part(const char* part) {
  static const std::string catalog = catalog_json();
  return from_json(catalog)[part];
}

template <class T>
std::vector<InspectReport> inspect_all(const std::vector<std::string>& specs, std::span<const T> x,
                                       const Layout& layout, const InspectSettings& settings) {
  std::vector<InspectReport> reports;
  for (const auto& spec : specs) reports.push_back(inspect(spec, x, layout, settings));
  return reports;
}

py::object inspect_vector(const py::handle& x, const std::vector<std::string>& specs,
                          const std::optional<Layout>& layout, std::uint64_t seed,
                          std::uint64_t step, unsigned repeat) {
  const VectorView view = view_vector(x, "inspect: x", Access::kRead);
  for (const auto& spec : specs) make_compressor(spec);  // reject bad specs up front, as the CLI
  const InspectSettings settings{seed, step, repeat};
  std::string json;
  {
    py::gil_scoped_release unlocked;
    const Layout chosen = layout ? *layout : Layout::flat(view.size);
    const auto reports = view.is_double
                             ? inspect_all(specs, view.as<const double>(), chosen, settings)
                             : inspect_all(specs, view.as<const float>(), chosen, settings);
    json = to_json(reports);
  }
  return from_json(json);
}

}  // namespace

void bind_catalog(py::module_& module) {
  module.def(
      "list_compressors", [] { return catalog_part("compressors"); },
      "Every compressor: name, summary, wire_bits, parameters, default_spec, properties (the "
      "data of `gradcomp list --json`).");
  module.def(
      "list_algorithms", [] { return catalog_part("algorithms"); },
      "Every distributed optimizer: name, summary, section, uses, parameters.");
  module.def(
      "list_schedules", [] { return catalog_part("schedules"); },
      "Every step-size schedule: name, summary, parameters.");
  module.def("inspect", &inspect_vector, py::arg("x"), py::arg("compressors"),
             py::arg("layout") = py::none(), py::kw_only(), py::arg("seed") = 0,
             py::arg("step") = 0, py::arg("repeat") = 3,
             "What each compressor does to x: one dict per spec with the fields of `gradcomp "
             "inspect --json` (bits, density, relative_error, implied, theory, timings, ...).");
}

}  // namespace gradcomp::python
