// `gradcomp inspect`: what would a compressor do to my gradient? Compresses a user's vector (or the
// demo vector) with one or more compressors and reports the bits on the wire, density, error and
// the constants it implies, and encode/decode time.
#include <fmt/format.h>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/cli/demo_gradient.hpp"
#include "gradcomp/cli/whole_number.hpp"
#include "gradcomp/compress/inspect.hpp"
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

std::string format_optional(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : std::string("-");
}

void print_table(const std::vector<InspectReport>& rows, const std::string& source, std::size_t d,
                 std::size_t layers) {
  fmt::print("input: {} ({} elements, {} layers)\n\n", source, d, layers);
  fmt::print("{:<34} {:>11} {:>8} {:>8} {:>9} {:>10} {:>18} {:>9} {:>9}\n", "compressor", "bits",
             "bits/el", "x fp32", "density", "rel.error", "implied", "enc ms", "dec ms");
  for (const auto& r : rows) {
    const std::string implied =
        r.implied_constant.empty()
            ? std::string("-")
            : fmt::format("{}={}", r.implied_constant == "upsilon2" ? "ups2" : r.implied_constant,
                          format_optional(r.implied_value));
    fmt::print("{:<34} {:>11} {:>8.3f} {:>8.1f} {:>9.5f} {:>10} {:>18} {:>9.3f} {:>9.3f}\n", r.spec,
               r.bits, r.bits_per_element, r.compression_vs_fp32, r.density,
               format_optional(r.relative_error), implied, 1e3 * r.encode_seconds,
               1e3 * r.decode_seconds);
  }
}

template <class T>
int run_typed(const std::vector<T>& x, const std::vector<std::size_t>& shape, const Layout& layout,
              const InspectOptions& options, const std::string& source) {
  const InspectSettings settings{options.seed, options.step, options.repeat};
  std::vector<InspectReport> rows;
  std::vector<T> decoded;
  for (const auto& spec : options.specs) {
    rows.push_back(inspect(spec, std::span<const T>(x), layout, settings,
                           options.output.empty() ? nullptr : &decoded));
  }
  if (!options.output.empty()) write_npy(options.output, decoded, shape);
  if (options.json) {
    fmt::print("{}\n", rows.size() == 1 ? rows[0].to_json(2) : to_json(rows, 2));
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
                      "a JSON file naming the layers: {\"layers\": [{\"name\", \"shape\"}]}");
  command->add_option("-o,--output", options->output,
                      "write the decoded vector (.npy); needs exactly one --compressor");
  command->add_flag("--json", options->json,
                    "print JSON (one object, or an array for several compressors)");
  command->add_option("--seed", options->seed, "seed of the random streams")->check(whole_number());
  command->add_option("--step", options->step, "step number (keys shared randomness)")
      ->check(whole_number());
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
