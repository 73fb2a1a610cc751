#pragma once
// The algorithm registry: every distributed optimizer by name, with typed parameters, like the
// compressor registry (compress/registry.hpp). `gradcomp list` prints it.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/compress/params.hpp"

namespace gradcomp {

template <class T>
using AlgorithmMaker =
    std::function<std::unique_ptr<Algorithm<T>>(const Params&, const AlgorithmSetup<T>&)>;

struct AlgorithmEntry {
  std::string name;
  std::string summary;  // one line
  std::string section;  // its section of docs/algorithms.md, e.g. "§3.6 ([DEF] Alg 1)"
  std::string uses;     // which of the choice's compressors it uses: "compressor", ...
  std::vector<ParamSpec> params;
  AlgorithmMaker<float> make_float;
  AlgorithmMaker<double> make_double;
};

const std::vector<AlgorithmEntry>& algorithm_entries();
const AlgorithmEntry& find_algorithm(std::string_view name);

// Builds setup.choice.algorithm ("name" or "name:key=value,..."). InvalidInput listing the valid
// names or parameters otherwise.
template <class T>
std::unique_ptr<Algorithm<T>> make_algorithm(const AlgorithmSetup<T>& setup);

// Checks "name:key=value,..." against the registry without building anything (InvalidInput as
// make_algorithm would raise it).
void validate_algorithm_spec(std::string_view spec);

// What the algorithm of `choice` compresses with, from its entry's `uses`: the choice's
// compressor, its own (signsgd-mv's sign, dist-ef-block*'s blocksign) or, for dqsgd and diana,
// the quantizer; `quantizer` is empty when the algorithm takes none. What summary.json records
// and what tells the user that a given [compressor] key goes unused.
struct CompressorsInUse {
  std::string compressor;
  std::string quantizer;
  bool takes_compressor = false;  // the choice's compressor (its name and parameters)
};
CompressorsInUse compressors_in_use(const AlgorithmChoice& choice);

// Both makers of an entry from a class template A<T> constructed as A<T>(setup, params, extra...).
template <template <class> class A, class... Extra>
AlgorithmEntry algorithm_entry(std::string name, std::string summary, std::string section,
                               std::string uses, std::vector<ParamSpec> params, Extra... extra) {
  return {
      std::move(name),
      std::move(summary),
      std::move(section),
      std::move(uses),
      std::move(params),
      [=](const Params& p, const AlgorithmSetup<float>& s) -> std::unique_ptr<Algorithm<float>> {
        return std::make_unique<A<float>>(s, p, extra...);
      },
      [=](const Params& p, const AlgorithmSetup<double>& s) -> std::unique_ptr<Algorithm<double>> {
        return std::make_unique<A<double>>(s, p, extra...);
      }};
}

}  // namespace gradcomp
