#pragma once
// The configuration of a training run (docs/config.md lists every key): read from TOML (toml++),
// overridden by `--set section.key=value`, or the embedded default (Fashion-MNIST, MLP, 8 workers,
// DEF with RBGS r = 64). Unknown sections or keys are errors that list the valid ones.
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gradcomp/algo/algorithm.hpp"

namespace gradcomp {

struct TrainConfig {
  // [data]
  std::string data_source = "fashion-mnist";  // fashion-mnist | idx | libsvm | csv | generate
  std::string train_path;                     // idx: images; libsvm/csv: the file
  std::string train_labels;                   // idx only
  std::string test_path;
  std::string test_labels;
  std::string generator;                  // generate: "madelon:samples=..."
  std::size_t features = 0;               // libsvm: declared width (0: widest index)
  std::string labels = "classification";  // or regression
  double test_fraction = 0.2;             // held out when there is no test file
  std::string partition = "iid";
  std::size_t train_samples = 0;  // > 0: a fixed random subset of the training set (smaller runs)
  std::size_t test_samples = 0;   // > 0: the same for the test set
  // > 0: that many training samples (a fixed random choice) are held out and replace the test
  // set, so step sizes can be tuned without looking at the test set.
  std::size_t validation_samples = 0;
  // [model]
  std::string model = "mlp:hidden=128";
  std::string init =
      "default";  // or "optimum:offset=c": x0 = x* + c·1 ([HardThreshold] §C.3, convex models)
  // [workers]
  std::size_t workers = 8;
  std::string backend = "local";  // local | mpi
  std::string allreduce = "ring";
  std::size_t threads = 0;  // the per-worker part of a step on this many threads; 0: the cores
  // [algorithm], [compressor]
  AlgorithmChoice choice;
  std::string schedule = "constant:lr=0.1";
  std::string lr_unit = "1";  // or "1/L": the schedule's rates are multiples of 1/L (§5.1)
  // [network]
  std::string network = "1Gbit";
  // [run]
  std::uint64_t epochs = 3;
  std::uint64_t steps = 0;       // > 0 overrides epochs
  std::string batch = "32";      // or "full": each worker's whole shard, deterministic gradients
  std::uint64_t eval_every = 0;  // steps; 0 = once per epoch
  std::uint64_t seed = 1;
  std::string precision = "float";  // float | double
  bool save_model = false;
  std::uint64_t checkpoint_every = 0;  // steps; 0: only at the end and when interrupted
  bool gradient_geometry = false;  // log φ(g) and ‖g‖₁²/(d‖g‖²) ([BlockEF] Fig. 1b)
  std::uint64_t train_eval_samples = 0;  // > 0: evaluate the training loss on this many samples
  std::string out;                       // empty: the next free runs/run-NNN
  bool progress =
      true;  // progress lines on stderr (not a key: the reproduction suite turns it off)
  std::set<std::string> given;  // "section.key" the user's file or --set gave (not a key)
  bool lr_overridden = false;   // algorithm.lr beside a schedule, which wins (not a key)

  // The resolved configuration as TOML (written to the run directory).
  [[nodiscard]] std::string to_toml() const;
  // Every key of the resolved configuration as ("section.key", its TOML text), in to_toml()'s
  // order: what the ranks of one job must agree on (the start-up handshake compares them).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> settings() const;
};

// The embedded default run (`gradcomp train` without a config; `make run`).
const char* default_config_toml();

// Parses TOML text (`origin` names it in errors), then applies "section.key=value" overrides
// whose values are TOML values ("0.1", "\"def\"", "true") or bare words taken as strings.
TrainConfig parse_config(const std::string& text, const std::string& origin,
                         const std::vector<std::string>& overrides);

// model.init = "optimum:offset=c": c (0 for "default"). InvalidInput when c is not a number.
double init_offset(const std::string& init);

// What the user gave that the run does not use (a [compressor] of an algorithm with its own, a
// quantizer of one that takes none, workers.allreduce on the local backend), one note each:
// `gradcomp train` prints them as warnings.
std::vector<std::string> unused_settings(const TrainConfig& config);

// Checks the algorithm, compressor, quantizer and schedule specs against their registries, as the
// trainer would when it starts (the reproduction suite checks every run before the first starts).
void validate_specs(const TrainConfig& config);

}  // namespace gradcomp
