// The trainer's parts, each alone (train/worker_gradients, train/evaluator, train/run_checkpoint):
// the workers' gradients are the objective's at the query points on each worker's batch; an
// evaluation record holds the model's losses, f − f*, the step's rate and epoch; a checkpoint
// restores every state buffer, the totals and the step, a run without one is named, and a damaged
// checkpoint or a changed configuration is refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/model/registry.hpp"
#include "gradcomp/train/evaluator.hpp"
#include "gradcomp/train/run_checkpoint.hpp"
#include "gradcomp/train/stop_signals.hpp"
#include "gradcomp/train/worker_gradients.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

// 60 rows of a fixed linear rule, two features, and a 10-row test set.
std::string labelled_csv(const std::string& name, std::size_t rows, double shift) {
  const auto path = testing::scratch_directory() / ("gradcomp_parts_" + name);
  std::ofstream out(path);
  for (std::size_t i = 0; i < rows; ++i) {
    const double a = std::sin(static_cast<double>(i) + shift);
    const double b = std::cos(3.0 * static_cast<double>(i) + shift);
    out << (a + 0.5 * b > 0 ? 1 : 0) << ',' << a << ',' << b << '\n';
  }
  return path.string();
}

// One small logistic run wired as the trainer wires it: 3 workers, batches of 4, DEF with Top-1.
struct SmallRun {
  TrainConfig config;
  RunData data;
  Shards shards;
  std::unique_ptr<Objective<double>> objective;
  LocalCommunicator local;
  WorkerGroup group;
  Exchange exchange;
  std::unique_ptr<Algorithm<double>> algorithm;
  Batches batches;
  Stepper<double> stepper;

  explicit SmallRun(const std::vector<std::string>& overrides = {})
      : config(parse_config("", "parts.toml", with_defaults(overrides))),
        data(load_run_data(config)),
        shards(partition(data.train, 3, config.partition, config.seed)),
        objective(make_objective<double>(config.model, data.train, config.seed)),
        group(WorkerGroup::split(3, local)),
        exchange(local, group, 3),  // the workers on three threads: results are the same
        algorithm(make_algorithm<double>({exchange,
                                          objective->layout(),
                                          config.seed,
                                          {"def:kappa=0.5", "topk:k=1", "identity"}})),
        batches(shards, group, config.batch, config.seed),
        stepper(*algorithm, objective->layout(), make_schedule("inverse:c=1,t0=1", {}), 1.0, 0) {
    std::vector<double> x0(objective->layout().total_size());
    objective->initialize(x0, config.seed);
    algorithm->start(x0);
  }

  static std::vector<std::string> with_defaults(std::vector<std::string> overrides) {
    std::vector<std::string> all = {"data.source=\"csv\"",
                                    "data.train=\"" + labelled_csv("train.csv", 60, 0.0) + "\"",
                                    "data.test=\"" + labelled_csv("test.csv", 10, 0.5) + "\"",
                                    "model.name=\"logistic:l2=0.01\"",
                                    "workers.n=3",
                                    "run.batch=\"4\"",
                                    "run.precision=\"double\""};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return all;
  }

  void steps(WorkerGradients<double>& gradients, std::size_t count) {
    for (std::size_t s = 0; s < count; ++s) stepper.step(gradients.compute(stepper));
  }
};

TEST(WorkerGradients, AreTheObjectivesGradientsAtTheQueryPointsOnEachWorkersBatch) {
  SmallRun run;
  WorkerGradients<double> gradients(*run.objective, run.data.train, run.batches, run.group,
                                    run.local, run.exchange.pool());
  run.steps(gradients, 2);  // DEF's query points x − κe_i now differ between workers
  Batches same(run.shards, run.group, run.config.batch, run.config.seed);
  const auto computed = gradients.compute(run.stepper);
  ASSERT_EQ(computed.size(), 3U);
  for (std::size_t j = 0; j < 3; ++j) {
    std::vector<double> expected(run.objective->layout().total_size());
    run.objective->loss_and_gradient(run.stepper.query_point(j), run.data.train, same.batch(j, 2),
                                     expected);
    EXPECT_EQ(std::vector<double>(computed[j].begin(), computed[j].end()), expected) << j;
  }
  EXPECT_NE(std::vector<double>(computed[0].begin(), computed[0].end()),
            std::vector<double>(computed[1].begin(), computed[1].end()));
}

// The trainer's step: DEF (no momentum) asks for each gradient in its worker's task, on batches
// of one row (the objective takes the detached point as it reads it) and of four (written out),
// and ends with the bits of the step from gradients computed first: every state buffer after
// five steps.
TEST(WorkerGradients, StepWithTheAlgorithmComputingTheGradientsGivesTheSameBits) {
  for (const std::string batch : {"1", "4"}) {
    SmallRun given({"run.batch=\"" + batch + "\""});
    SmallRun computing({"run.batch=\"" + batch + "\""});
    ASSERT_TRUE(computing.algorithm->computes_gradients());
    WorkerGradients<double> given_gradients(*given.objective, given.data.train, given.batches,
                                            given.group, given.local, given.exchange.pool());
    WorkerGradients<double> computing_gradients(*computing.objective, computing.data.train,
                                                computing.batches, computing.group, computing.local,
                                                computing.exchange.pool());
    given.steps(given_gradients, 5);
    for (std::size_t s = 0; s < 5; ++s) computing_gradients.step(computing.stepper);
    EXPECT_EQ(computing.stepper.next_step(), 5U);
    const auto a = given.algorithm->state();
    const auto b = computing.algorithm->state();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(std::vector<double>(a[k].data.begin(), a[k].data.end()),
                std::vector<double>(b[k].data.begin(), b[k].data.end()))
          << "batch " << batch << ", " << a[k].name;
    }
  }
}

// A gradient that is not finite stops the step with the message of the step from given
// gradients, naming the step, the worker and the layer: x holds an infinity, which reaches the
// gradient through the ℓ2 term.
TEST(WorkerGradients, AGradientComputedInTheWorkersTaskIsCheckedAsAGivenOne) {
  const auto diverged = [](bool computing) {
    SmallRun run({"run.batch=\"1\""});
    WorkerGradients<double> gradients(*run.objective, run.data.train, run.batches, run.group,
                                      run.local, run.exchange.pool());
    run.steps(gradients, 1);
    for (const auto& buffer : run.algorithm->state()) {
      if (buffer.name == "x") buffer.data[1] = std::numeric_limits<double>::infinity();
    }
    run.algorithm->restored();
    try {
      if (computing) {
        gradients.step(run.stepper);
      } else {
        run.steps(gradients, 1);
      }
    } catch (const Diverged& e) {
      return std::string(e.what());
    }
    return std::string("no Diverged");
  };
  const std::string given = diverged(false);
  EXPECT_EQ(diverged(true), given);
  EXPECT_NE(given.find("step 1, worker 0: the gradient has an infinity at index 1"),
            std::string::npos)
      << given;
}

TEST(Evaluator, RecordsTheEvaluatedModelsLossesSuboptimalityRateAndEpoch) {
  SmallRun run;
  WorkerGradients<double> gradients(*run.objective, run.data.train, run.batches, run.group,
                                    run.local, run.exchange.pool());
  Optimum optimum;
  optimum.value = 0.125;
  Evaluator<double> evaluator(run.config, *run.objective, run.data, run.shards, optimum, 5);
  run.steps(gradients, 3);
  const auto record = evaluator.evaluate(run.stepper);

  std::vector<double> y(run.objective->layout().total_size());
  run.algorithm->evaluated_model(y);  // DEF: y = x − ē
  const Evaluation train = run.objective->evaluate(y, run.data.train);
  const Evaluation test = run.objective->evaluate(y, run.data.test);
  EXPECT_EQ(record["step"].get<std::uint64_t>(), 3U);
  EXPECT_DOUBLE_EQ(record["epoch"].get<double>(), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(record["lr"].get<double>(), 1.0 / (2 + 1 + 1));  // γ_2 of c/(t + 1 + t0)
  EXPECT_EQ(record["train_loss"].get<double>(), train.loss);
  EXPECT_EQ(record["test_accuracy"].get<double>(), test.accuracy);
  EXPECT_EQ(record["suboptimality"].get<double>(), train.loss - 0.125);
  EXPECT_GT(record["grad_norm2"].get<double>(), 0.0);
  EXPECT_GT(record["error_norm2"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(record["density"].get<double>(), 0.5);  // Top-1 of 2 parameters
}

TEST(Evaluator, RefusesATrainingSubsetForAConvexModel) {
  SmallRun run({"run.train_eval_samples=10"});
  const Optimum optimum;
  try {
    Evaluator<double> evaluator(run.config, *run.objective, run.data, run.shards, optimum, 5);
    FAIL() << "accepted";
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(),
                 "run.train_eval_samples = 10 with the convex model 'logistic:l2=0.01': f - f* is "
                 "defined on the whole training set; remove the key (0 = every sample)");
  }
}

// An empty temporary directory of this name.
std::filesystem::path fresh_directory(const std::string& name) {
  const auto directory = testing::scratch_directory() / name;
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  return directory;
}

// `run` after `count` steps, and traffic totals holding its last step's traffic.
TrafficTotals stepped(SmallRun& run, std::size_t count) {
  WorkerGradients<double> gradients(*run.objective, run.data.train, run.batches, run.group,
                                    run.local, run.exchange.pool());
  TrafficTotals totals(NetworkModel::parse("1Gbit"), 2, 3);
  run.steps(gradients, count);
  totals.add_step(run.algorithm->traffic(), 0.5, 3);
  return totals;
}

TEST(RunCheckpoint, RestoresEveryStateBufferTheTotalsAndTheStep) {
  const auto directory = fresh_directory("gradcomp_parts_checkpoint");
  SmallRun run;
  TrafficTotals totals = stepped(run, 3);
  RunCheckpoint<double>(*run.algorithm, *run.objective, totals, run.local)
      .save(3, directory.string());
  std::vector<std::vector<double>> saved;
  for (const auto& b : run.algorithm->state()) saved.emplace_back(b.data.begin(), b.data.end());

  SmallRun other;
  TrafficTotals other_totals(NetworkModel::parse("1Gbit"), 2, 3);
  const std::uint64_t step =
      RunCheckpoint<double>(*other.algorithm, *other.objective, other_totals, other.local)
          .restore(directory.string());
  EXPECT_EQ(step, 3U);
  std::vector<std::vector<double>> restored;
  for (const auto& b : other.algorithm->state())
    restored.emplace_back(b.data.begin(), b.data.end());
  EXPECT_EQ(restored, saved);
  EXPECT_EQ(other_totals.bits_up(), totals.bits_up());
  EXPECT_GT(other_totals.bits_up(), 0.0);
  EXPECT_EQ(other_totals.simulated_seconds(), totals.simulated_seconds());

  const auto empty = testing::scratch_directory() / "gradcomp_parts_no_checkpoint";
  std::filesystem::create_directories(empty);
  try {
    RunCheckpoint<double>(*other.algorithm, *other.objective, other_totals, other.local)
        .restore(empty.string());
    FAIL() << "resumed without a checkpoint";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()),
              "'" + empty.string() +
                  "' has no checkpoint (checkpoint/trainer.json); it cannot be resumed");
  }
  std::filesystem::remove_all(directory);
  std::filesystem::remove_all(empty);
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Every single-bit change of a rank's file and every changed byte of trainer.json is refused as
// corruption naming the file (before checksums, a flipped bit resumed into another result or was
// misread as another configuration), and a config.toml changed after the start is named too.
TEST(RunCheckpoint, RefusesEveryDamagedFileAndAChangedConfiguration) {
  const auto directory = fresh_directory("gradcomp_parts_corrupt");
  const std::string run_dir = directory.string();
  SmallRun run;
  TrafficTotals totals = stepped(run, 2);
  const std::string config = run.config.to_toml();
  write_text(directory / "config.toml", config);
  RunCheckpoint<double> saver(*run.algorithm, *run.objective, totals, run.local);
  saver.record_config(config);
  saver.save(2, run_dir);
  EXPECT_EQ(verify_resumable(run_dir), 2U);

  SmallRun other;
  TrafficTotals other_totals(NetworkModel::parse("1Gbit"), 2, 3);
  RunCheckpoint<double> restorer(*other.algorithm, *other.objective, other_totals, other.local);
  const auto refusal = [&]() -> std::string {
    try {
      restorer.restore(run_dir);
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "restored";
  };
  ASSERT_EQ(refusal(), "restored");

  const auto rank_file = directory / "checkpoint" / "rank-0.bin";
  const std::string rank_bytes = file_text(rank_file);
  const std::string rank_corrupt = fmt::format(
      "checkpoint '{}' is corrupt: its contents do not match the checksum saved with them (the "
      "file was changed or damaged after it was written); restore it from a copy, or start the "
      "run again",
      rank_file.string());
  const std::string not_a_checkpoint =
      fmt::format("'{}' is not a gradcomp checkpoint", rank_file.string());
  for (std::size_t at = 0; at < rank_bytes.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = rank_bytes;
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
      write_text(rank_file, flipped);
      EXPECT_EQ(refusal(), at < 8 ? not_a_checkpoint : rank_corrupt) << "byte " << at;
    }
  }
  write_text(rank_file, rank_bytes.substr(0, rank_bytes.size() - 3));
  EXPECT_EQ(refusal(), rank_corrupt);
  write_text(rank_file, rank_bytes);

  const auto trainer_file = directory / "checkpoint" / "trainer.json";
  const std::string trainer_bytes = file_text(trainer_file);
  const std::string trainer_corrupt =
      fmt::format("checkpoint '{}' is corrupt: ", trainer_file.string());
  for (std::size_t at = 0; at < trainer_bytes.size(); ++at) {
    std::string changed = trainer_bytes;
    changed[at] = static_cast<char>(changed[at] ^ 1);
    write_text(trainer_file, changed);
    EXPECT_EQ(refusal().rfind(trainer_corrupt, 0), 0U) << "byte " << at << ": " << refusal();
  }
  write_text(trainer_file, trainer_bytes.substr(0, trainer_bytes.size() / 2));
  EXPECT_EQ(
      refusal().rfind(
          trainer_corrupt + "it is not JSON ([json.exception.parse_error.101] parse error", 0),
      0U)
      << refusal();
  write_text(trainer_file, trainer_bytes);
  ASSERT_EQ(refusal(), "restored");

  write_text(directory / "config.toml", config + "# edited\n");
  const std::string config_path = run_dir + "/config.toml";
  try {
    verify_resumable(run_dir);
    FAIL() << "an edited config.toml was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()),
              fmt::format("'{}' was changed after the run started (it no longer matches the "
                          "checksum in checkpoint/trainer.json): a resumed run keeps its "
                          "configuration. Restore the file, or start a new run from the changed "
                          "one (gradcomp train {} --out NEW_DIRECTORY)",
                          config_path, config_path));
  }
  std::filesystem::remove_all(directory);
}

// The first SIGINT, SIGTERM or SIGHUP asks the run to stop after its step (announced); a second
// one ends the process at once with code 130 and says the last checkpoint is kept.
TEST(StopSignals, TheFirstSignalAsksToStopAndASecondStopsAtOnce) {
  LocalCommunicator one;
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
    StopSignals signals(false);
    EXPECT_FALSE(signals.requested(one));
    std::raise(signal);
    EXPECT_TRUE(signals.requested(one)) << signal;
  }
  EXPECT_EXIT(
      {
        StopSignals signals(true);
        std::raise(SIGHUP);
        std::raise(SIGINT);
      },
      ::testing::ExitedWithCode(130),
      "gradcomp: stopping after the step in progress(.|\n)*gradcomp: stopped at once; the last "
      "complete checkpoint is kept");
}

}  // namespace
}  // namespace gradcomp
