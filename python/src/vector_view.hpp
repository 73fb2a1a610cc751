#pragma once
// A float32/float64 vector lent by Python: a NumPy array or a CPU torch.Tensor, C-contiguous,
// read or written in place (never copied). Holding the view keeps the object alive, so the GIL
// can be released while the C++ side works on it.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>

namespace gradcomp::python {

namespace py = pybind11;

enum class Access { kRead, kWrite };

struct VectorView {
  py::object owner;  // the array or tensor
  void* data = nullptr;
  std::size_t size = 0;  // elements, whatever the shape
  bool is_double = false;

  template <class T>
  [[nodiscard]] std::span<T> as() const {
    return {static_cast<T*>(data), size};
  }
};

// ValueError naming `what` and the fix for anything else: another dtype, a non-contiguous or
// read-only (for kWrite) array, a tensor on another device, a tensor that requires grad (kWrite).
VectorView view_vector(const py::handle& object, const char* what, Access access);

}  // namespace gradcomp::python
