// gradcomp._gradcomp: the C++ library seen from Python (gradcomp/__init__.py re-exports it).
#include "bindings.hpp"
#include "gradcomp/compress/compressor.hpp"

PYBIND11_MODULE(_gradcomp, module) {
  module.doc() = "gradcomp: gradient compressors with exact wire formats (docs/python.md)";
  module.attr("__version__") = GRADCOMP_VERSION;
  gradcomp::python::bind_errors(module);
  gradcomp::python::bind_layout(module);
  gradcomp::python::bind_message(module);
  gradcomp::python::bind_compressor(module);
  gradcomp::python::bind_catalog(module);
  gradcomp::python::bind_optimizer(module);
  module.def("simd_target", &gradcomp::simd_target,
             "The instruction set whose kernels run on this CPU: AVX3 (AVX-512), AVX2, SSE4 or "
             "SCALAR.");
}
