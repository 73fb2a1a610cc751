#include "gradcomp/algo/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "gradcomp/algo/entries.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

const std::vector<AlgorithmEntry>& algorithm_entries() {
  static const std::vector<AlgorithmEntry> entries = [] {
    std::vector<AlgorithmEntry> all;
    for (auto* family :
         {sgd_entries, ef_entries, ef_scaled_entries, def_entries, dist_ef_entries,
          sign_vote_entries, dqsgd_entries, diana_entries, ef_bias_correction_entries,
          ec_sgd_diana_entries, momentum_compression_entries, ef21_entries}) {
      for (auto& entry : family()) all.push_back(std::move(entry));
    }
    std::set<std::string> names;
    for (const auto& entry : all) {
      require<InternalError>(names.insert(entry.name).second, "algorithm '{}' registered twice",
                             entry.name);
    }
    return all;
  }();
  return entries;
}

const AlgorithmEntry& find_algorithm(std::string_view name) {
  for (const auto& entry : algorithm_entries()) {
    if (entry.name == name) return entry;
  }
  std::vector<std::string> names;
  for (const auto& entry : algorithm_entries()) names.push_back(entry.name);
  throw InvalidInput(
      fmt::format("unknown algorithm '{}'; algorithms: {}", name, fmt::join(names, ", ")));
}

template <class T>
std::unique_ptr<Algorithm<T>> make_algorithm(const AlgorithmSetup<T>& setup) {
  const std::string_view spec = setup.choice.algorithm;
  const std::size_t colon = spec.find(':');
  const AlgorithmEntry& entry = find_algorithm(spec.substr(0, colon));
  const Params params = Params::parse(
      entry.name, colon == std::string_view::npos ? "" : spec.substr(colon + 1), entry.params);
  if constexpr (std::is_same_v<T, float>) {
    return entry.make_float(params, setup);
  } else {
    return entry.make_double(params, setup);
  }
}

void validate_algorithm_spec(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  const AlgorithmEntry& entry = find_algorithm(spec.substr(0, colon));
  (void)Params::parse(entry.name, colon == std::string_view::npos ? "" : spec.substr(colon + 1),
                      entry.params);
}

CompressorsInUse compressors_in_use(const AlgorithmChoice& choice) {
  const std::string_view spec = choice.algorithm;
  const std::string& uses = find_algorithm(spec.substr(0, spec.find(':'))).uses;
  constexpr std::string_view kOwn = "its own: ";
  CompressorsInUse in_use;
  in_use.takes_compressor = uses.starts_with("compressor");
  if (uses.find("quantizer") != std::string::npos) in_use.quantizer = choice.quantizer;
  if (in_use.takes_compressor) {
    in_use.compressor = choice.compressor;
  } else if (uses.starts_with(kOwn)) {
    in_use.compressor = uses.substr(kOwn.size());
  } else {
    in_use.compressor = choice.quantizer;
  }
  return in_use;
}

template std::unique_ptr<Algorithm<float>> make_algorithm(const AlgorithmSetup<float>&);
template std::unique_ptr<Algorithm<double>> make_algorithm(const AlgorithmSetup<double>&);

}  // namespace gradcomp
