// `gradcomp inspect`: what would a compressor do to my gradient? Compresses a user's vector (or the
// demo vector) with one or more compressors and reports the bits on the wire, density, error and
// the constants it implies, and encode/decode time.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/cli/demo_gradient.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"

namespace gradcomp::cli {

namespace {

struct InspectOptions {
  std::vector<std::string> specs;
  std::string input;
  std::string layout;
  std::string output;
  bool demo = false;
  bool json = false;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  unsigned repeat = 3;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::optional<double> as_optional(double v) {
  return std::isfinite(v) ? std::optional(v) : std::nullopt;
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
nlohmann::json inspect_one(const std::string& spec, const std::vector<T>& x, const Layout& layout,
                           const InspectOptions& options, std::vector<T>* decoded_out) {
  const StepContext context{options.seed, options.step, 0};
  Message message;
  double encode_seconds = std::numeric_limits<double>::infinity();
  std::unique_ptr<Compressor> compressor;
  for (unsigned r = 0; r < options.repeat; ++r) {
    compressor = make_compressor(spec);  // fresh state: stateful compressors time step 0
    const auto start = std::chrono::steady_clock::now();
    message = compressor->encode(std::span<const T>(x), layout, context);
    encode_seconds = std::min(encode_seconds, seconds_since(start));
  }
  std::vector<T> decoded(x.size());
  double decode_seconds = std::numeric_limits<double>::infinity();
  for (unsigned r = 0; r < options.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    compressor->decode(message, layout, context, std::span<T>(decoded));
    decode_seconds = std::min(decode_seconds, seconds_since(start));
  }
  double norm2 = 0, error2 = 0;
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i], ci = decoded[i];
    norm2 += xi * xi;
    error2 += (xi - ci) * (xi - ci);
    nonzero += ci != 0 ? 1 : 0;
  }
  const double d = static_cast<double>(x.size());
  const Properties props = compressor->properties();
  const Constants theory = compressor->constants(layout);
  const double relative = norm2 > 0 ? error2 / norm2 : (error2 > 0 ? INFINITY : 0.0);
  nlohmann::json implied;
  if (props.bound == ErrorBound::kAbsolute) {
    implied["upsilon2"] = error2;
  } else if (props.unbiased && props.randomized) {
    // E‖C(x) − x‖² = ω‖x‖² for an unbiased C: the one-sample estimate that cannot go negative
    // (‖C(x)‖²/‖x‖² − 1 has the same mean plus a cross term 2⟨x, C(x) − x⟩ in its variance).
    implied["omega"] = optional_json(as_optional(relative));
  } else if (props.bound == ErrorBound::kRelative) {
    implied["delta"] = optional_json(as_optional(1 - relative));
  }
  if (decoded_out != nullptr) *decoded_out = std::move(decoded);
  return {{"spec", spec},
          {"compressor", compressor->spec()},
          {"elements", x.size()},
          {"bits", message.bits()},
          {"payload_bits", message.payload_bits()},
          {"bytes", message.size_bytes()},
          {"bits_per_element", static_cast<double>(message.bits()) / d},
          {"compression_vs_fp32", 32.0 * d / static_cast<double>(message.bits())},
          {"density", static_cast<double>(nonzero) / d},
          {"relative_error", optional_json(as_optional(relative))},
          {"squared_error", error2},
          {"implied", implied},
          {"theory",
           {{"delta", optional_json(theory.delta)},
            {"omega", optional_json(theory.omega)},
            {"upsilon2", optional_json(theory.upsilon2)},
            {"note", theory.note}}},
          {"encode_seconds", encode_seconds},
          {"decode_seconds", decode_seconds}};
}

std::string format_optional(const nlohmann::json& v, const char* pattern) {
  return v.is_null() ? std::string("-") : fmt::format(fmt::runtime(pattern), v.get<double>());
}

void print_table(const std::vector<nlohmann::json>& rows, const std::string& source, std::size_t d,
                 std::size_t layers) {
  fmt::print("input: {} ({} elements, {} layers)\n\n", source, d, layers);
  fmt::print("{:<34} {:>11} {:>8} {:>8} {:>9} {:>10} {:>18} {:>9} {:>9}\n", "compressor", "bits",
             "bits/el", "x fp32", "density", "rel.error", "implied", "enc ms", "dec ms");
  for (const auto& r : rows) {
    std::string implied = "-";
    for (const auto& [key, value] : r["implied"].items()) {
      implied =
          fmt::format("{}={}", key == "upsilon2" ? "ups2" : key, format_optional(value, "{:.4g}"));
    }
    fmt::print("{:<34} {:>11} {:>8.3f} {:>8.1f} {:>9.5f} {:>10} {:>18} {:>9.3f} {:>9.3f}\n",
               r["spec"].get<std::string>(), r["bits"].get<std::uint64_t>(),
               r["bits_per_element"].get<double>(), r["compression_vs_fp32"].get<double>(),
               r["density"].get<double>(), format_optional(r["relative_error"], "{:.4g}"), implied,
               1e3 * r["encode_seconds"].get<double>(), 1e3 * r["decode_seconds"].get<double>());
  }
}

template <class T>
int run_typed(const std::vector<T>& x, const std::vector<std::size_t>& shape, const Layout& layout,
              const InspectOptions& options, const std::string& source) {
  require(
      layout.total_size() == x.size(),
      "the layout describes {} elements but the input has {}; the layers' shapes must add up to "
      "the vector's length",
      layout.total_size(), x.size());
  std::vector<nlohmann::json> rows;
  std::vector<T> decoded;
  for (const auto& spec : options.specs) {
    rows.push_back(
        inspect_one(spec, x, layout, options, options.output.empty() ? nullptr : &decoded));
  }
  if (!options.output.empty()) write_npy(options.output, decoded, shape);
  if (options.json) {
    fmt::print("{}\n", rows.size() == 1 ? rows[0].dump(2) : nlohmann::json(rows).dump(2));
  } else {
    print_table(rows, source, x.size(), layout.block_count());
  }
  return 0;
}

}  // namespace

std::function<int()> add_inspect_command(CLI::App& app) {
  auto* command =
      app.add_subcommand("inspect", "Compress a vector and report bits, density, error and timing");
  auto options = std::make_shared<InspectOptions>();
  command
      ->add_option("-c,--compressor", options->specs,
                   "compressor spec, e.g. topk:ratio=0.001 (repeat to compare several)")
      ->required();
  auto* input = command->add_option("-i,--input", options->input,
                                    "vector as a NumPy .npy file (float32 or float64)");
  auto* demo = command->add_flag("--demo", options->demo,
                                 "use the built-in demo gradient (582k elements, 8 layers)");
  input->excludes(demo);
  command->add_option("--layout", options->layout,
                      "layers as JSON: {\"layers\": [{\"name\", \"shape\"}]}");
  command->add_option("-o,--output", options->output,
                      "write the decoded vector (.npy); needs exactly one --compressor");
  command->add_flag("--json", options->json,
                    "print JSON (one object, or an array for several compressors)");
  command->add_option("--seed", options->seed, "seed of the random streams");
  command->add_option("--step", options->step, "step number (keys shared randomness)");
  command->add_option("--repeat", options->repeat, "timing repetitions (the minimum is reported)")
      ->check(CLI::Range(1U, 1000U));
  return [options]() {
    require(options->demo || !options->input.empty(),
            "inspect needs a vector: --input grad.npy, or --demo for the built-in one");
    require(options->output.empty() || options->specs.size() == 1,
            "--output writes one decoded vector; give exactly one --compressor with it");
    for (const auto& spec : options->specs) make_compressor(spec);  // reject bad specs up front
    if (options->demo) {
      const Layout layout =
          options->layout.empty() ? demo_layout() : Layout::from_json_file(options->layout);
      const auto x = demo_gradient(demo_layout());
      return run_typed(x, {x.size()}, layout, *options, "built-in demo gradient");
    }
    NpyArray array = read_npy(options->input);
    const Layout layout = options->layout.empty() ? Layout::flat(array.size())
                                                  : Layout::from_json_file(options->layout);
    return std::visit(
        [&](const auto& x) {
          using T = typename std::decay_t<decltype(x)>::value_type;
          const std::size_t bad = first_non_finite(std::span<const T>(x));
          require(bad == x.size(), "input '{}' holds {} at index {}; the vector must be finite",
                  options->input, static_cast<double>(x[bad < x.size() ? bad : 0]), bad);
          return run_typed(x, array.shape, layout, *options, options->input);
        },
        array.data);
  };
}

}  // namespace gradcomp::cli
