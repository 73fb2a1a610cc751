#pragma once
// What a compressor does to one vector: the bits on the wire, density, error, the constant the
// error implies next to the theory's, and encode/decode times. `gradcomp inspect` prints these
// reports; the Python module's gradcomp.inspect returns them as dicts with the same fields.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gradcomp/compress/compressor.hpp"

namespace gradcomp {

struct InspectSettings {
  std::uint64_t seed = 0;  // of the random streams
  std::uint64_t step = 0;  // keys shared randomness
  unsigned repeat = 3;     // timing repetitions; the minimum is reported
};

struct InspectReport {
  std::string spec;        // as given
  std::string compressor;  // canonical, every parameter filled in
  std::size_t elements = 0;
  std::uint64_t bits = 0;          // of the whole message, header included
  std::uint64_t payload_bits = 0;  // less the 16-byte header
  std::uint64_t bytes = 0;
  double bits_per_element = 0;
  double compression_vs_fp32 = 0;
  double density = 0;                    // nonzero fraction of C(x)
  std::optional<double> relative_error;  // ‖x − C(x)‖²/‖x‖² (none for x = 0 with an error)
  double squared_error = 0;              // ‖x − C(x)‖²
  std::string implied_constant;          // "delta", "omega", "upsilon2", or empty
  std::optional<double> implied_value;  // what this vector's error implies for it
  Constants theory;                     // what the theory gives for these parameters
  double encode_seconds = 0;
  double decode_seconds = 0;

  // One JSON object (the fields above; `implied` and `theory` as objects; null for none).
  [[nodiscard]] std::string to_json(int indent = -1) const;
};

// Compresses x with a fresh compressor from `spec` (each timing repetition starts a new one, so a
// stateful compressor is timed at its first step) and reports. `decoded`, when given, receives
// C(x). InvalidInput for a bad spec, a layout of another length or a non-finite x.
template <class T>
InspectReport inspect(std::string_view spec, std::span<const T> x, const Layout& layout,
                      const InspectSettings& settings, std::vector<T>* decoded = nullptr);

// Several reports as one JSON array.
std::string to_json(const std::vector<InspectReport>& reports, int indent = -1);

}  // namespace gradcomp
