// gradcomp.Message: the bytes one worker puts on the wire. bytes(m) and the buffer protocol give
// them without a copy for the latter; Message.from_bytes(b) takes bytes received from elsewhere and
// checks the header (DecodeError if it is not a gradcomp message).
#include "gradcomp/core/message.hpp"

#include <fmt/format.h>

#include "bindings.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp::python {

namespace {

Message from_bytes(const py::buffer& buffer) {
  const py::buffer_info info = buffer.request();
  require<InvalidInput>(
      info.itemsize == 1 && info.ndim <= 1 && (info.ndim == 0 || info.strides[0] == 1),
      "Message.from_bytes: give bytes, a bytearray, a memoryview or a "
      "contiguous uint8 array (items of {} bytes were given)",
      info.itemsize);
  const auto* first = static_cast<const std::uint8_t*>(info.ptr);
  Message message{std::vector<std::uint8_t>(first, first + info.size)};
  MessageHeader::parse(message.bytes);  // DecodeError unless it opens with a valid header
  return message;
}

MessageHeader header_of(const Message& message) {
  return MessageHeader::parse(message.bytes);
}

}  // namespace

void bind_message(py::module_& module) {
  py::class_<Message>(module, "Message", py::buffer_protocol(),
                      "One encoded vector: a 16-byte header and the compressor's body.")
      .def_static("from_bytes", &from_bytes, py::arg("data"),
                  "A message from bytes (copied); DecodeError if they do not open with a "
                  "gradcomp header. The body is checked when it is decoded.")
      .def_property_readonly("bits", &Message::bits,
                             "What the message costs on the wire, header included (as `gradcomp "
                             "inspect` and the trainer count it).")
      .def_property_readonly("payload_bits", &Message::payload_bits, "bits less the header's 128.")
      .def_property_readonly("compressor_id",
                             [](const Message& m) { return header_of(m).compressor; })
      .def_property_readonly(
          "length", [](const Message& m) { return header_of(m).length; },
          "Elements of the encoded vector.")
      .def_property_readonly("step", [](const Message& m) { return header_of(m).step; })
      .def_property_readonly(
          "value_format",
          [](const Message& m) { return std::string(value_format_name(header_of(m).values)); },
          "fp32, fp16 or fp64")
      .def("__len__", &Message::size_bytes)
      .def("__bytes__",
           [](const Message& m) {
             return py::bytes(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
           })
      .def("__eq__", [](const Message& a, const Message& b) { return a.bytes == b.bytes; })
      .def_buffer([](Message& m) {
        return py::buffer_info(m.bytes.data(), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                               {m.bytes.size()}, {1}, /*readonly=*/true);
      })
      .def(py::pickle(
          [](const Message& m) {
            return py::bytes(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
          },
          [](const py::bytes& data) { return from_bytes(data); }))
      .def("__repr__", [](const Message& m) {
        const MessageHeader header = header_of(m);
        return fmt::format("Message({} bytes, compressor #{}, {} elements, step {}, {})",
                           m.bytes.size(), header.compressor, header.length, header.step,
                           value_format_name(header.values));
      });
}

}  // namespace gradcomp::python
