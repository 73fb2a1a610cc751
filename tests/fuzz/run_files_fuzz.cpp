// libFuzzer target: the parsers of a run's own files (GRADCOMP_FUZZ_PARSER: config, checkpoint,
// experiment). config: the bytes as a TOML configuration, resolved as `gradcomp train` resolves it
// (defaults, every key's range, the specs of algorithm, compressor, quantizer and schedule).
// checkpoint: the bytes as a rank's checkpoint file; when the first byte is odd the target appends
// the checksum the file must end with, so mutations reach the parser behind the integrity check.
// experiment: the bytes as a reproduction's experiment file, read in quick and in full mode, its
// functions checked and every arm's configuration resolved, as `gradcomp reproduce` does before
// its first run.
// InvalidInput and IoError are the expected answers; anything else is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/fnv_hash.hpp"
#include "gradcomp/reproduce/arm_results.hpp"
#include "gradcomp/reproduce/experiment.hpp"
#include "gradcomp/train/checkpoint.hpp"
#include "gradcomp/train/config.hpp"

namespace {

constexpr std::string_view kParser = GRADCOMP_FUZZ_PARSER;

// GRADCOMP_FUZZ_SHOW_ERRORS=1 prints the parser's answer (to see why a seed is refused).
void show_answer(const std::exception& answer) {
  static const bool show = std::getenv("GRADCOMP_FUZZ_SHOW_ERRORS") != nullptr;
  if (show) std::fprintf(stderr, "%s\n", answer.what());
}

void parse_config(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const gradcomp::TrainConfig config = gradcomp::parse_config(text, "fuzz.toml", {});
  gradcomp::validate_specs(config);
  (void)gradcomp::unused_settings(config);
}

// A checkpoint of a model of 5 values and one worker's error, as DEF would save it.
void parse_checkpoint(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1U) != 0) {
    const std::uint64_t checksum = gradcomp::FnvHash().add_text(bytes).value();
    bytes.append(reinterpret_cast<const char*>(&checksum), sizeof(checksum));
  }
  static const std::string path = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "gradcomp-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern + "/rank-0.bin";
  }();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  std::vector<double> model(5), error(5), scalars;
  const std::vector<gradcomp::StateBuffer<double>> buffers = {{"x", model}, {"e/0", error}};
  (void)gradcomp::load_checkpoint<double>(path, buffers, scalars);
}

void parse_experiment(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto mode : {gradcomp::ReproduceMode::kQuick, gradcomp::ReproduceMode::kFull}) {
    const gradcomp::Experiment experiment = gradcomp::parse_experiment(text, "fuzz.toml", mode);
    gradcomp::validate_functions(experiment);
    for (const gradcomp::Arm& arm : experiment.arms) {
      std::vector<std::string> overrides = experiment.mode_overrides;
      overrides.insert(overrides.end(), arm.overrides.begin(), arm.overrides.end());
      gradcomp::validate_specs(gradcomp::parse_config(experiment.config_text, arm.id, overrides));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    if (kParser == "config") {
      parse_config(data, size);
    } else if (kParser == "checkpoint") {
      parse_checkpoint(data, size);
    } else if (kParser == "experiment") {
      parse_experiment(data, size);
    } else {
      std::abort();  // a parser tests/fuzz/CMakeLists.txt does not know
    }
  } catch (const gradcomp::InvalidInput& e) {
    show_answer(e);
  } catch (const gradcomp::IoError& e) {
    show_answer(e);
  }
  return 0;
}
