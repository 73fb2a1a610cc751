#pragma once
// The parts of the Python module gradcomp._gradcomp, one function per concept (module.cpp calls
// them in order). docs/python.md documents the API they make.
#include <pybind11/pybind11.h>

namespace gradcomp::python {

namespace py = pybind11;

void bind_errors(py::module_& module);      // gradcomp.DecodeError, the exception mapping
void bind_layout(py::module_& module);      // gradcomp.Layout
void bind_message(py::module_& module);     // gradcomp.Message
void bind_compressor(py::module_& module);  // gradcomp.Compressor
void bind_catalog(py::module_& module);     // list_compressors, list_algorithms, inspect
void bind_optimizer(py::module_& module);   // gradcomp.Optimizer

}  // namespace gradcomp::python
