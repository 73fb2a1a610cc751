#include "vector_view.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include <string>

#include "gradcomp/core/error.hpp"

namespace gradcomp::python {

namespace {

std::string type_name(const py::handle& object) {
  return py::str(py::type::handle_of(object).attr("__qualname__")).cast<std::string>();
}

bool is_torch_tensor(const py::handle& object) {
  const auto type = py::type::handle_of(object);
  const std::string module = py::str(type.attr("__module__")).cast<std::string>();
  return module.rfind("torch", 0) == 0 && py::hasattr(object, "data_ptr") &&
         py::hasattr(object, "is_contiguous");
}

VectorView view_numpy(const py::array& array, const char* what, Access access) {
  const py::dtype dtype = array.dtype();
  const bool is_float = dtype.kind() == 'f' && (dtype.itemsize() == 4 || dtype.itemsize() == 8);
  require(is_float && dtype.byteorder() != '>',
          "{}: a NumPy array of dtype {} cannot be used; give float32 or float64 "
          "(x.astype(numpy.float32))",
          what, dtype.attr("name").cast<std::string>());
  require((array.flags() & py::array::c_style) != 0,
          "{}: the NumPy array is not C-contiguous; pass numpy.ascontiguousarray(x)", what);
  require(access == Access::kRead || array.writeable(),
          "{}: the NumPy array is read-only; give a writeable array", what);
  return {py::reinterpret_borrow<py::object>(array), const_cast<void*>(array.data()),
          static_cast<std::size_t>(array.size()), dtype.itemsize() == 8};
}

VectorView view_tensor(const py::handle& tensor, const char* what, Access access) {
  const std::string device = py::str(tensor.attr("device").attr("type")).cast<std::string>();
  require(device == "cpu",
          "{}: the tensor is on device '{}'; gradcomp works on CPU tensors (.cpu())", what, device);
  const std::string dtype = py::str(tensor.attr("dtype")).cast<std::string>();
  require(dtype == "torch.float32" || dtype == "torch.float64",
          "{}: a tensor of dtype {} cannot be used; give torch.float32 or torch.float64 "
          "(t.float())",
          what, dtype);
  require(py::str(tensor.attr("layout")).cast<std::string>() == "torch.strided",
          "{}: the tensor is sparse; give a dense tensor (t.to_dense())", what);
  require(tensor.attr("is_contiguous")().cast<bool>(),
          "{}: the tensor is not contiguous; pass t.contiguous()", what);
  if (py::hasattr(tensor, "is_neg")) {
    require(!tensor.attr("is_neg")().cast<bool>(),
            "{}: the tensor is a negated view; pass t.resolve_neg()", what);
  }
  require(access == Access::kRead || !tensor.attr("requires_grad").cast<bool>(),
          "{}: the tensor requires grad, and gradcomp writes it outside autograd; pass "
          "t.detach() (or p.grad, or p.data)",
          what);
  const auto address = tensor.attr("data_ptr")().cast<std::uintptr_t>();
  const auto size = tensor.attr("numel")().cast<std::size_t>();
  return {py::reinterpret_borrow<py::object>(tensor), reinterpret_cast<void*>(address), size,
          dtype == "torch.float64"};
}

}  // namespace

VectorView view_vector(const py::handle& object, const char* what, Access access) {
  if (py::isinstance<py::array>(object)) {
    return view_numpy(py::reinterpret_borrow<py::array>(object), what, access);
  }
  if (is_torch_tensor(object)) return view_tensor(object, what, access);
  throw InvalidInput(fmt::format(
      "{}: a {} cannot be used; give a NumPy array or a CPU torch.Tensor of float32 or float64",
      what, type_name(object)));
}

}  // namespace gradcomp::python
