// gradcomp's exceptions as Python's: bad input (a spec, a parameter, a dtype, a size) is a
// ValueError with the command line's message; a message that does not decode is
// gradcomp.DecodeError, itself a ValueError; I/O failures are OSError; anything else RuntimeError.
#include "bindings.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp::python {

void bind_errors(py::module_& module) {
  static py::exception<DecodeError> decode_error(module, "DecodeError", PyExc_ValueError);
  decode_error.doc() =
      "A message that does not decode: truncated, corrupt, or made by another "
      "compressor, layout, step or setting.";
  py::register_exception_translator([](std::exception_ptr error) {
    // Most derived first: DecodeError is an InvalidInput.
    try {
      if (error) std::rethrow_exception(error);
    } catch (const DecodeError& e) {
      decode_error(e.what());
    } catch (const InvalidInput& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace gradcomp::python
