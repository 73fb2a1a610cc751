// gradcomp.Message: the bytes one worker puts on the wire. bytes(m) copies them, the buffer
// protocol (memoryview, numpy.frombuffer) lends them read-only; Message.from_bytes(b) takes bytes
// received from elsewhere and checks the header (DecodeError if it is not a gradcomp message).
#include <fmt/format.h>

#include "bindings.hpp"
#include "py_message.hpp"

namespace gradcomp::python {

namespace {

PyMessage from_bytes(const py::buffer& buffer) {
  const py::buffer_info info = buffer.request();
  require<InvalidInput>(
      info.itemsize == 1 && info.ndim <= 1 && (info.ndim == 0 || info.strides[0] == 1),
      "Message.from_bytes: give bytes, a bytearray, a memoryview or a "
      "contiguous uint8 array (items of {} bytes were given)",
      info.itemsize);
  const auto* first = static_cast<const std::uint8_t*>(info.ptr);
  PyMessage result{Message{std::vector<std::uint8_t>(first, first + info.size)}};
  MessageHeader::parse(result.message.bytes);  // DecodeError unless it opens with a valid header
  return result;
}

MessageHeader header_of(const PyMessage& m) {
  m.check_readable("Message");
  return MessageHeader::parse(m.message.bytes);
}

py::bytes as_bytes(const PyMessage& m) {
  m.check_readable("bytes(message)");
  return {reinterpret_cast<const char*>(m.message.bytes.data()), m.message.bytes.size()};
}

// The buffer protocol by hand (pybind11's def_buffer has no release hook): each export is counted,
// so that an encode into the message can refuse while a view is alive.
int get_buffer(PyObject* self, Py_buffer* view, int flags) {
  view->obj = nullptr;
  if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE) {
    PyErr_SetString(PyExc_BufferError, "gradcomp.Message is read-only");
    return -1;
  }
  try {
    auto& m = py::handle(self).cast<PyMessage&>();
    m.check_readable("memoryview(message)");
    if (PyBuffer_FillInfo(view, self, m.message.bytes.data(),
                          static_cast<Py_ssize_t>(m.message.bytes.size()), 1, flags) != 0) {
      return -1;
    }
    ++m.views;
    return 0;
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_BufferError, e.what());
    return -1;
  }
}

void release_buffer(PyObject* self, Py_buffer* /*view*/) {
  --py::handle(self).cast<PyMessage&>().views;
}

}  // namespace

void bind_message(py::module_& module) {
  py::class_<PyMessage> cls(module, "Message", py::buffer_protocol(),
                            "One encoded vector: a 16-byte header and the compressor's body.");
  cls.def_static("from_bytes", &from_bytes, py::arg("data"),
                 "A message from bytes (copied); DecodeError if they do not open with a "
                 "gradcomp header. The body is checked when it is decoded.")
      .def_property_readonly(
          "bits", [](const PyMessage& m) { return m.message.bits(); },
          "What the message costs on the wire, header included (as `gradcomp inspect` and the "
          "trainer count it).")
      .def_property_readonly(
          "payload_bits", [](const PyMessage& m) { return m.message.payload_bits(); },
          "bits less the header's 128.")
      .def_property_readonly("compressor_id",
                             [](const PyMessage& m) { return header_of(m).compressor; })
      .def_property_readonly(
          "length", [](const PyMessage& m) { return header_of(m).length; },
          "Elements of the encoded vector.")
      .def_property_readonly("step", [](const PyMessage& m) { return header_of(m).step; })
      .def_property_readonly(
          "value_format",
          [](const PyMessage& m) { return std::string(value_format_name(header_of(m).values)); },
          "fp32, fp16 or fp64")
      .def("__len__", [](const PyMessage& m) { return m.message.size_bytes(); })
      .def("__bytes__", &as_bytes)
      .def("__eq__",
           [](const PyMessage& a, const PyMessage& b) {
             a.check_readable("==");
             b.check_readable("==");
             return a.message.bytes == b.message.bytes;
           })
      .def(py::pickle(&as_bytes, [](const py::bytes& data) { return from_bytes(data); }))
      .def("__repr__", [](const PyMessage& m) {
        const MessageHeader header = header_of(m);
        return fmt::format("Message({} bytes, compressor #{}, {} elements, step {}, {})",
                           m.message.bytes.size(), header.compressor, header.length,
                           header.step, value_format_name(header.values));
      });
  auto* type = reinterpret_cast<PyHeapTypeObject*>(cls.ptr());
  type->as_buffer.bf_getbuffer = get_buffer;
  type->as_buffer.bf_releasebuffer = release_buffer;
}

}  // namespace gradcomp::python
