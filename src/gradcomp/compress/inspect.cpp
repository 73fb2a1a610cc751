#include "gradcomp/compress/inspect.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::optional<double> finite_or_none(double v) {
  return std::isfinite(v) ? std::optional(v) : std::nullopt;
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json as_json(const InspectReport& r) {
  nlohmann::json implied = nlohmann::json::object();
  if (!r.implied_constant.empty()) implied[r.implied_constant] = optional_json(r.implied_value);
  return {{"spec", r.spec},
          {"compressor", r.compressor},
          {"elements", r.elements},
          {"bits", r.bits},
          {"payload_bits", r.payload_bits},
          {"bytes", r.bytes},
          {"bits_per_element", r.bits_per_element},
          {"compression_vs_fp32", r.compression_vs_fp32},
          {"density", r.density},
          {"relative_error", optional_json(r.relative_error)},
          {"squared_error", r.squared_error},
          {"implied", implied},
          {"theory",
           {{"delta", optional_json(r.theory.delta)},
            {"omega", optional_json(r.theory.omega)},
            {"upsilon2", optional_json(r.theory.upsilon2)},
            {"note", r.theory.note}}},
          {"encode_seconds", r.encode_seconds},
          {"decode_seconds", r.decode_seconds}};
}

// Which constant a measured error estimates: υ² for an absolute bound, ω for an unbiased
// randomized compressor, δ for a relative bound.
void set_implied(InspectReport& report, const Properties& props) {
  if (props.bound == ErrorBound::kAbsolute) {
    report.implied_constant = "upsilon2";
    report.implied_value = report.squared_error;
  } else if (props.unbiased && props.randomized) {
    // E‖C(x) − x‖² = ω‖x‖² for an unbiased C: the one-sample estimate that cannot go negative
    // (‖C(x)‖²/‖x‖² − 1 has the same mean plus a cross term 2⟨x, C(x) − x⟩ in its variance).
    report.implied_constant = "omega";
    report.implied_value = report.relative_error;
  } else if (props.bound == ErrorBound::kRelative) {
    report.implied_constant = "delta";
    if (report.relative_error) report.implied_value = 1 - *report.relative_error;
  }
}

}  // namespace

std::string InspectReport::to_json(int indent) const {
  return as_json(*this).dump(indent);
}

std::string to_json(const std::vector<InspectReport>& reports, int indent) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& report : reports) all.push_back(as_json(report));
  return all.dump(indent);
}

template <class T>
InspectReport inspect(std::string_view spec, std::span<const T> x, const Layout& layout,
                      const InspectSettings& settings, std::vector<T>* decoded) {
  require(layout.total_size() == x.size(),
          "the layout describes {} elements but the input has {}; the layers' shapes must add up "
          "to the vector's length",
          layout.total_size(), x.size());
  require(settings.repeat >= 1, "inspect: repeat must be at least 1 (it is {})", settings.repeat);
  const StepContext context{settings.seed, settings.step, 0};
  Message message;
  double encode_seconds = std::numeric_limits<double>::infinity();
  std::unique_ptr<Compressor> compressor;
  for (unsigned r = 0; r < settings.repeat; ++r) {
    compressor = make_compressor(spec);  // fresh state: stateful compressors time step 0
    const auto start = std::chrono::steady_clock::now();
    message = compressor->encode(x, layout, context);
    encode_seconds = std::min(encode_seconds, seconds_since(start));
  }
  std::vector<T> result(x.size());
  double decode_seconds = std::numeric_limits<double>::infinity();
  for (unsigned r = 0; r < settings.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    compressor->decode(message, layout, context, std::span<T>(result));
    decode_seconds = std::min(decode_seconds, seconds_since(start));
  }
  double norm2 = 0, error2 = 0;
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i], ci = result[i];
    norm2 += xi * xi;
    error2 += (xi - ci) * (xi - ci);
    nonzero += ci != 0 ? 1 : 0;
  }
  const double d = static_cast<double>(x.size());
  InspectReport report;
  report.spec = std::string(spec);
  report.compressor = compressor->spec();
  report.elements = x.size();
  report.bits = message.bits();
  report.payload_bits = message.payload_bits();
  report.bytes = message.size_bytes();
  report.bits_per_element = static_cast<double>(message.bits()) / d;
  report.compression_vs_fp32 = 32.0 * d / static_cast<double>(message.bits());
  report.density = static_cast<double>(nonzero) / d;
  report.relative_error =
      finite_or_none(norm2 > 0 ? error2 / norm2 : (error2 > 0 ? INFINITY : 0.0));
  report.squared_error = error2;
  set_implied(report, compressor->properties());
  report.theory = compressor->constants(layout);
  report.encode_seconds = encode_seconds;
  report.decode_seconds = decode_seconds;
  if (decoded != nullptr) *decoded = std::move(result);
  return report;
}

template InspectReport inspect<float>(std::string_view, std::span<const float>, const Layout&,
                                      const InspectSettings&, std::vector<float>*);
template InspectReport inspect<double>(std::string_view, std::span<const double>, const Layout&,
                                       const InspectSettings&, std::vector<double>*);

}  // namespace gradcomp
