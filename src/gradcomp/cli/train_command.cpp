// `gradcomp train [CONFIG.toml] [--set section.key=value ...] [--out DIR]`: one training run
// (docs/config.md, docs/outputs.md). Without a config it runs the embedded default (`make run`).
// With workers.backend = "mpi" it runs as one rank of `mpirun -np p gradcomp train ...`.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "gradcomp/cli/commands.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/comm/mpi_communicator.hpp"
#include "gradcomp/comm/mpi_session.hpp"
#include "gradcomp/comm/start_agreement.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/train/run_checkpoint.hpp"
#include "gradcomp/train/trainer.hpp"

namespace gradcomp::cli {

namespace {

struct TrainOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string out;
  std::string resume;
};

// Exit code of a run stopped by SIGINT/SIGTERM after its final checkpoint (128 + SIGINT).
constexpr int kInterrupted = 130;

std::string read_config(const std::string& path) {
  require(std::filesystem::exists(path), "config file '{}' does not exist", path);
  require(!std::filesystem::is_directory(path),
          "config file '{}' is a directory; give a TOML file (to continue the run in it: "
          "gradcomp train --resume {})",
          path, path);
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("cannot read config file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Two decimals, or three significant digits below 1 MB (a small model's traffic is not 0.00 MB).
std::string megabytes(double bits) {
  const double mb = bits / 8e6;
  return mb >= 1 || mb == 0 ? fmt::format("{:.2f} MB", mb) : fmt::format("{:.3g} MB", mb);
}

// "64.0x less than uncompressed SGD", or "1.8x more than ..." when the messages (indices,
// headers) outweigh a small model's dense exchange.
std::string versus_dense(double sent, double dense) {
  if (sent <= dense) return fmt::format("{:.1f}x less than", dense / std::max(sent, 1.0));
  return fmt::format("{:.1f}x more than", sent / dense);
}

void print_outcome(const TrainResult& result) {
  const auto& s = result.summary;
  const auto& last = s["final"];
  const std::string accuracy =
      last["test_accuracy"].is_null()
          ? fmt::format("train loss {:.5g}", last["train_loss"].get<double>())
          : fmt::format("test accuracy {:.2f}%", 100 * last["test_accuracy"].get<double>());
  fmt::print("{} after {:.2f} epochs ({}, {}, {} workers)\n", accuracy, last["epoch"].get<double>(),
             s["algorithm"].get<std::string>(), s["compressor"].get<std::string>(),
             s["workers"].get<std::size_t>());
  const double sent = s["bits_up_per_worker"].get<double>();
  const double dense = s["dense_bits_per_worker"].get<double>();
  if (dense > 0) {
    fmt::print("sent {} per worker, {} uncompressed SGD ({})\n", megabytes(sent),
               versus_dense(sent, dense), megabytes(dense));
    fmt::print("simulated time on {}: {:.1f} s (uncompressed SGD: {:.1f} s)\n",
               s["network"].get<std::string>(), s["simulated_seconds"].get<double>(),
               s["dense_simulated_seconds"].get<double>());
  }
  fmt::print("run directory: {}\n", result.directory);
  if (s.contains("collapsed")) {
    fmt::print(
        "collapsed: test accuracy at chance ({:.2f}%, the largest class's share) from step {} on; "
        "lower the learning rate or the compression ratio\n",
        100 * s["chance_accuracy"].get<double>(), s["collapsed"]["step"].get<std::uint64_t>());
  }
  if (result.interrupted) {
    fmt::print(
        "interrupted after step {}: checkpoint written; continue with\n  gradcomp train "
        "--resume {}\n",
        result.steps_done, result.directory);
  }
}

// A resumed run reads the run's own config.toml; only the length may be changed.
TrainConfig resolve_config(const TrainOptions& options) {
  if (!options.resume.empty()) {
    require(options.config_path.empty() && options.out.empty(),
            "--resume continues the run in its own directory with its own config.toml; give no "
            "config file or --out");
    for (const auto& assignment : options.overrides) {
      require(assignment.rfind("run.steps=", 0) == 0 || assignment.rfind("run.epochs=", 0) == 0 ||
                  assignment.rfind("workers.backend=", 0) == 0,
              "--resume accepts --set run.steps, run.epochs and workers.backend only; '{}' would "
              "change the run",
              assignment);
    }
    verify_resumable(options.resume);
    const std::string path = options.resume + "/config.toml";
    TrainConfig config = parse_config(read_config(path), path, options.overrides);
    const TrainConfig stored = parse_config(read_config(path), path, {});
    // Milestones at fractions of the run would move with its length, changing the steps taken.
    require(config.schedule.find("fractions=") == std::string::npos ||
                (config.steps == stored.steps && config.epochs == stored.epochs),
            "the schedule '{}' places its milestones at fractions of the run, so a longer run "
            "would have decayed elsewhere; start a new run of the length you want (or give the "
            "milestones as epochs=)",
            config.schedule);
    return config;
  }
  const std::string text =
      options.config_path.empty() ? default_config_toml() : read_config(options.config_path);
  std::vector<std::string> overrides = options.overrides;
  if (!options.out.empty()) overrides.push_back("run.out=\"" + options.out + "\"");
  return parse_config(
      text, options.config_path.empty() ? "the default config" : options.config_path, overrides);
}

// Settings the run will not use, said before it starts (not again when it is resumed).
void warn_unused(const TrainOptions& options, const TrainConfig& config) {
  if (!options.resume.empty()) return;
  for (const auto& note : unused_settings(config))
    fmt::print(stderr, "gradcomp: warning: {}\n", note);
}

// Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE (PMIx launchers PMIX_RANK) in every process it
// starts.
bool started_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

int run_local(const TrainOptions& options, const TrainConfig& config) {
  warn_unused(options, config);
  LocalCommunicator local;
  const TrainResult result = train(config, local, options.resume);
  print_outcome(result);
  return result.interrupted ? kInterrupted : 0;
}

// One rank of an MPI job. Under mpirun the ranks read their configuration together
// (comm/start_agreement.hpp): an error in it is printed once, not once per rank.
int run_mpi_rank(const TrainOptions& options, bool under_mpirun) {
  int argc = 0;
  char** argv = nullptr;
  MpiSession session(argc, argv);
  return run_rank(session, [&] {
    TrainConfig config;
    {
      MpiCommunicator world;
      start_together(world, [&] {
        config = resolve_config(options);
        require(config.backend == "mpi" || session.size() == 1,
                "started by mpirun with {} ranks, but workers.backend = \"{}\": every rank "
                "would run the whole job; add --set workers.backend=mpi",
                session.size(), config.backend);
      });
    }
    if (config.backend == "local") return run_local(options, config);
    if (session.rank() == 0) {
      warn_unused(options, config);
      if (!under_mpirun)
        fmt::print(stderr,
                   "gradcomp: note: workers.backend = \"mpi\" without mpirun: this process is the "
                   "job's only rank (start p ranks with: mpirun -np p gradcomp train ...)\n");
    }
    MpiCommunicator mpi(MPI_COMM_WORLD, parse_allreduce_algorithm(config.allreduce));
    const TrainResult result = train(config, mpi, options.resume);
    if (session.rank() == 0) print_outcome(result);
    return result.interrupted ? kInterrupted : 0;
  });
}

int run_train(const TrainOptions& options) {
  // Checked before MPI_Init, which sets these variables itself.
  if (started_by_mpirun()) return run_mpi_rank(options, true);
  const TrainConfig config = resolve_config(options);
  if (config.backend == "local") return run_local(options, config);
  return run_mpi_rank(options, false);
}

}  // namespace

std::function<int()> add_train_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "train", "Train a model with n workers exchanging compressed gradients (docs/config.md)");
  auto options = std::make_shared<TrainOptions>();
  command->add_option("config", options->config_path,
                      "TOML configuration; without one, the default Fashion-MNIST run");
  // allow_extra_args(false): each --set takes one value, so a config file after it stays the
  // positional argument.
  command
      ->add_option("--set", options->overrides,
                   "override a key: section.key=value (repeatable), e.g. algorithm.kappa=0.5")
      ->allow_extra_args(false);
  command->add_option("--out", options->out, "run directory (must not exist or be empty)");
  command->add_option("--resume", options->resume,
                      "continue the run in this directory from its last checkpoint");
  return [options] { return run_train(*options); };
}

}  // namespace gradcomp::cli
