// gradcomp.Compressor: one compressor instance (one worker's: PowerSGD keeps state between steps)
// for a layout, or for any length when none is given. encode and decode read and write NumPy
// arrays and CPU tensors in place, with the GIL released.
#include "gradcomp/compress/compressor.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "bindings.hpp"
#include "gradcomp/algo/catalog.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "py_message.hpp"
#include "vector_view.hpp"

namespace gradcomp::python {

namespace {

class PyCompressor {
 public:
  PyCompressor(const std::string& spec, std::optional<Layout> layout)
      : compressor_(make_compressor(spec)), layout_(std::move(layout)) {}

  [[nodiscard]] const Compressor& compressor() const { return *compressor_; }
  [[nodiscard]] const std::optional<Layout>& layout() const { return layout_; }

  [[nodiscard]] py::object properties() const {
    const std::string json =
        compressor_properties_json(*compressor_, layout_ ? &*layout_ : nullptr);
    return py::module_::import("json").attr("loads")(json);
  }

  // Into `message`, whose buffer is reused (the caller checked that it may be written).
  void encode(const py::handle& x, const StepContext& context, Message& message) {
    const VectorView view = view_vector(x, "encode: x", Access::kRead);
    py::gil_scoped_release unlocked;
    // One encode or decode at a time per instance: PowerSGD's state and the sketch's caches are
    // the instance's; separate instances run in parallel.
    const std::lock_guard lock(mutex_);
    with_layout(view.size, [&](const Layout& layout) {
      if (view.is_double) {
        compressor_->encode(view.as<const double>(), layout, context, message);
      } else {
        compressor_->encode(view.as<const float>(), layout, context, message);
      }
    });
  }

  void decode_add(const PyMessage& message, const py::handle& out, double weight,
                  const StepContext& context) const {
    const Reading reading(message, "decode_add");
    const VectorView view = view_vector(out, "decode_add: out", Access::kWrite);
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    decode_into(message, view, weight, context);
  }

  py::array decode(const PyMessage& message, const py::object& dtype,
                   const StepContext& context) const {
    const Reading reading(message, "decode");
    const MessageHeader header = MessageHeader::parse(message.message.bytes);
    const py::dtype chosen = dtype.is_none() ? default_dtype(header) : py::dtype::from_args(dtype);
    // The output has the layout's size; without a layout, the header's length, which is checked
    // (against the fingerprint, among others) before it is allocated: a corrupt length is a
    // DecodeError, not gigabytes.
    const std::size_t size = layout_ ? layout_->total_size() : header.length;
    with_layout(size, [&](const Layout& layout) {
      compressor_->check_header(message.message.bytes, layout, context,
                                chosen.equal(py::dtype::of<double>()));
    });
    py::array out(chosen, std::vector<py::ssize_t>{static_cast<py::ssize_t>(size)});
    std::memset(out.mutable_data(), 0, static_cast<std::size_t>(out.nbytes()));
    const VectorView view = view_vector(out, "decode: dtype", Access::kWrite);
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    decode_into(message, view, 1.0, context);
    return out;
  }

  // The all-reduce path: the number of payload values for a vector of `size` elements (None for
  // compressors whose messages do not add element-wise).
  [[nodiscard]] std::optional<std::size_t> payload_size(std::size_t size) const {
    std::optional<std::size_t> result;
    with_layout(size, [&](const Layout& layout) { result = compressor_->payload_size(layout); });
    return result;
  }

  // out ← the message's payload values (widened to out's dtype).
  void read_payload(const PyMessage& message, const py::handle& out, std::size_t size,
                    const StepContext& context) const {
    const Reading reading(message, "read_payload");
    const VectorView view = view_vector(out, "read_payload: out", Access::kWrite);
    require(payload_size(size) == view.size,
            "read_payload: out has {} values, the payload of a {}-element vector {}", view.size,
            size, payload_size(size) ? std::to_string(*payload_size(size)) : "does not exist");
    py::gil_scoped_release unlocked;
    with_layout(size, [&](const Layout& layout) {
      if (view.is_double) {
        compressor_->read_payload(message.message.bytes, layout, context, view.as<double>());
      } else {
        compressor_->read_payload(message.message.bytes, layout, context, view.as<float>());
      }
    });
  }

  // out += weight · decode(payload), payload typically a sum over workers.
  void decode_payload_add(const py::handle& payload, const py::handle& out, double weight,
                          const StepContext& context) const {
    const VectorView values = view_vector(payload, "decode_payload_add: payload", Access::kRead);
    const VectorView view = view_vector(out, "decode_payload_add: out", Access::kWrite);
    require(values.is_double == view.is_double,
            "decode_payload_add: the payload and out must have one dtype");
    require(payload_size(view.size) == values.size,
            "decode_payload_add: the payload has {} values, a {}-element vector's {}", values.size,
            view.size,
            payload_size(view.size) ? std::to_string(*payload_size(view.size)) : "does not exist");
    py::gil_scoped_release unlocked;
    with_layout(view.size, [&](const Layout& layout) {
      if (view.is_double) {
        compressor_->decode_payload_add(values.as<const double>(), layout, context,
                                        view.as<double>(), weight);
      } else {
        compressor_->decode_payload_add(values.as<const float>(), layout, context, view.as<float>(),
                                        static_cast<float>(weight));
      }
    });
  }

 private:
  // A message's values are fp64 only when a vector of doubles was encoded (or values=fp64 was
  // asked for); everything else decodes to float32 unless dtype says otherwise.
  static py::dtype default_dtype(const MessageHeader& header) {
    return header.values == ValueFormat::kFp64 ? py::dtype::of<double>() : py::dtype::of<float>();
  }

  // Calls body with the instance's layout, or with one flat block of `size` elements.
  template <class Body>
  void with_layout(std::size_t size, Body&& body) const {
    if (layout_) {
      body(*layout_);
    } else {
      body(Layout::flat(size));
    }
  }

  void decode_into(const PyMessage& message, const VectorView& out, double weight,
                   const StepContext& context) const {
    with_layout(out.size, [&](const Layout& layout) {
      if (out.is_double) {
        compressor_->decode_add(message.message, layout, context, out.as<double>(), weight);
      } else {
        compressor_->decode_add(message.message, layout, context, out.as<float>(),
                                static_cast<float>(weight));
      }
    });
  }

  std::unique_ptr<Compressor> compressor_;
  std::optional<Layout> layout_;
  mutable std::mutex mutex_;
};

StepContext context_of(std::uint64_t seed, std::uint64_t step, std::uint32_t worker) {
  return {seed, step, worker};
}

}  // namespace

void bind_compressor(py::module_& module) {
  py::class_<PyCompressor>(module, "Compressor",
                           "A compressor from a spec such as 'topk:ratio=0.01' (gradcomp "
                           "list_compressors() lists every name and parameter).")
      .def(py::init<const std::string&, std::optional<Layout>>(), py::arg("spec"),
           py::arg("layout") = py::none())
      .def_property_readonly(
          "spec", [](const PyCompressor& c) { return c.compressor().spec(); },
          "The canonical spec: every parameter, defaults filled in.")
      .def_property_readonly("name", [](const PyCompressor& c) { return c.compressor().name(); })
      .def_property_readonly("layout", &PyCompressor::layout)
      .def_property_readonly("properties", &PyCompressor::properties,
                             "unbiased, linear_under_shared_seed, exchange, randomized, "
                             "shared_randomness, stateful, error_bound, and the constants delta, "
                             "omega, upsilon2 for the layout (None where there is none).")
      .def(
          "encode",
          [](PyCompressor& c, const py::handle& x, std::uint64_t seed, std::uint64_t step,
             std::uint32_t worker, const py::object& out) -> py::object {
            const StepContext context = context_of(seed, step, worker);
            if (out.is_none()) {
              PyMessage fresh;
              c.encode(x, context, fresh.message);
              return py::cast(std::move(fresh));
            }
            require(py::isinstance<PyMessage>(out),
                    "encode: out must be a gradcomp.Message (or None for a new one)");
            auto& reused = out.cast<PyMessage&>();
            const Writing writing(reused, "encode: out");
            try {
              c.encode(x, context, reused.message);
            } catch (...) {
              reused.message.bytes.clear();  // not a stale message that still decodes
              throw;
            }
            return out;
          },
          py::arg("x"), py::kw_only(), py::arg("seed") = 0, py::arg("step") = 0,
          py::arg("worker") = 0, py::arg("out") = py::none(),
          "Encodes x (a NumPy array or CPU tensor of float32/float64, contiguous, read in place). "
          "seed and step key the shared randomness; worker the private one. out=message encodes "
          "into that message, reusing its buffer (a training loop then allocates once), and "
          "returns it.")
      .def(
          "decode",
          [](const PyCompressor& c, const PyMessage& m, const py::object& dtype, std::uint64_t seed,
             std::uint64_t step,
             std::uint32_t worker) { return c.decode(m, dtype, context_of(seed, step, worker)); },
          py::arg("message"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("seed") = 0,
          py::arg("step") = 0, py::arg("worker") = 0,
          "A new NumPy array holding C(x): float64 for fp64 messages, float32 otherwise unless "
          "dtype says.")
      .def(
          "decode_add",
          [](const PyCompressor& c, const PyMessage& m, const py::handle& out, double weight,
             std::uint64_t seed, std::uint64_t step, std::uint32_t worker) {
            c.decode_add(m, out, weight, context_of(seed, step, worker));
          },
          py::arg("message"), py::arg("out"), py::kw_only(), py::arg("weight") = 1.0,
          py::arg("seed") = 0, py::arg("step") = 0, py::arg("worker") = 0,
          "out += weight * C(x), in place (a writeable NumPy array or CPU tensor, no copy).")
      .def("payload_size", &PyCompressor::payload_size, py::arg("size"),
           "Values in the payload of a message for a vector of `size` elements, for compressors "
           "whose payloads add element-wise (identity, fp16, rbgs, randk:shared=true, sketch); "
           "None for the others.")
      .def(
          "read_payload",
          [](const PyCompressor& c, const PyMessage& m, const py::handle& out, std::size_t size,
             std::uint64_t seed, std::uint64_t step, std::uint32_t worker) {
            c.read_payload(m, out, size, context_of(seed, step, worker));
          },
          py::arg("message"), py::arg("out"), py::kw_only(), py::arg("size"), py::arg("seed") = 0,
          py::arg("step") = 0, py::arg("worker") = 0,
          "out <- the message's payload values (payload_size(size) of them), to be summed across "
          "workers and decoded once with decode_payload_add.")
      .def(
          "decode_payload_add",
          [](const PyCompressor& c, const py::handle& payload, const py::handle& out, double weight,
             std::uint64_t seed, std::uint64_t step) {
            c.decode_payload_add(payload, out, weight, context_of(seed, step, 0));
          },
          py::arg("payload"), py::arg("out"), py::kw_only(), py::arg("weight") = 1.0,
          py::arg("seed") = 0, py::arg("step") = 0,
          "out += weight * decode(payload): the decode of a sum of payloads is the sum of the "
          "decodes.")
      .def("__repr__", [](const PyCompressor& c) {
        return fmt::format("Compressor('{}')", c.compressor().spec());
      });
}

}  // namespace gradcomp::python
