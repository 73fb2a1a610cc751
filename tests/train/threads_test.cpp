// workers.threads changes how fast a run goes, never what it computes: every algorithm (each
// family: error feedback, DEF, two-way with a server, DIANA shifts, sign votes, plain SGD) trains
// to the same bits on 1, 2 and 3 threads — model, metrics and diagnostics. d = 5,000 (one
// coordinate slice: the chained sum) and 10 workers (two decode groups on 2 threads, one on 3);
// a few at d = 40,000, where the decode's sum and dist-EF's model update run in slices.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/train/config.hpp"
#include "gradcomp/train/trainer.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The metrics records without their clocks (wall, step and compute seconds differ run to run).
std::vector<nlohmann::json> records_without_times(const std::filesystem::path& directory) {
  std::vector<nlohmann::json> records;
  std::ifstream in(directory / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    nlohmann::json record = nlohmann::json::parse(line);
    for (auto it = record.begin(); it != record.end();) {
      const std::string& key = it.key();
      if (key.size() > 8 && key.ends_with("_seconds")) {
        it = record.erase(it);
      } else {
        ++it;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

struct Outcome {
  std::string model;
  std::vector<nlohmann::json> records;
};

Outcome train_on(const std::string& algorithm, const std::string& compressor, std::size_t threads,
                 std::size_t features = 5000) {
  // dqsgd-sync needs a linear quantizer with a shared seed; the others take the default qsgd.
  const std::string quantizer =
      algorithm == "dqsgd-sync" ? "randk:ratio=0.25,unbiased=true" : "qsgd:levels=4";
  const auto out = testing::scratch_directory() /
                   ("gradcomp-threads-" + algorithm + "-" + std::to_string(threads));
  std::filesystem::remove_all(out);
  TrainConfig config = parse_config(
      "", "threads_test",
      {"data.source=\"generate\"",
       fmt::format("data.generator=\"madelon:samples={},features={},informative=10,redundant=10\"",
                   features == 5000 ? 500 : 60, features),
       "model.name=\"logistic:l2=0.001\"", "workers.n=10",
       "workers.threads=" + std::to_string(threads), "algorithm.name=\"" + algorithm + "\"",
       "compressor.spec=\"" + compressor + "\"", "compressor.quantizer=\"" + quantizer + "\"",
       "run.steps=6", "run.batch=\"2\"", "run.eval_every=3", "run.precision=\"float\"",
       "run.save_model=true", "run.out=\"" + out.string() + "\""});
  config.progress = false;
  LocalCommunicator local;
  const TrainResult result = train(config, local, "");
  Outcome outcome{read_bytes(std::filesystem::path(result.directory) / "model.npy"),
                  records_without_times(result.directory)};
  std::filesystem::remove_all(out);
  return outcome;
}

TEST(WorkerThreads, EveryAlgorithmTrainsToTheSameBitsOnOneTwoAndThreeThreads) {
  for (const auto& entry : algorithm_entries()) {
    // A sparse compressor with large messages (the parallel decode), a linear one with a shared
    // seed; an algorithm that takes only one of them (ef-sync, ef-scaled) runs with that one.
    std::size_t ran = 0;
    for (const std::string compressor : {"topk:ratio=0.3", "rbgs:ratio=8"}) {
      Outcome one;
      try {
        one = train_on(entry.name, compressor, 1);
      } catch (const std::exception&) {  // this algorithm does not take this compressor
        continue;
      }
      ++ran;
      ASSERT_FALSE(one.model.empty()) << entry.name;
      ASSERT_EQ(one.records.size(), 3U) << entry.name;
      for (const std::size_t threads : {2, 3}) {
        const Outcome many = train_on(entry.name, compressor, threads);
        EXPECT_TRUE(many.model == one.model) << entry.name << " " << compressor << " " << threads;
        EXPECT_EQ(many.records, one.records) << entry.name << " " << compressor << " " << threads;
      }
    }
    EXPECT_GE(ran, 1U) << entry.name;
  }
}

TEST(WorkerThreads, ALargeModelsSlicedPassesGiveTheSameBits) {
  // Top-k's messages decoded by their senders (the chained sum; at 1% as the coordinates they
  // carry), QSGD's decoded in groups and summed in slices, dist-EF's model update in slices.
  for (const auto& [algorithm, compressor] :
       std::vector<std::pair<std::string, std::string>>{{"ef", "topk:ratio=0.3"},
                                                        {"ef", "topk:ratio=0.01"},
                                                        {"ef", "qsgd:levels=4"},
                                                        {"dist-ef-sgdm", "topk:ratio=0.3"}}) {
    const Outcome one = train_on(algorithm, compressor, 1, 40000);
    ASSERT_FALSE(one.model.empty()) << algorithm;
    for (const std::size_t threads : {2, 3}) {
      const Outcome many = train_on(algorithm, compressor, threads, 40000);
      EXPECT_TRUE(many.model == one.model) << algorithm << " " << compressor << " " << threads;
      EXPECT_EQ(many.records, one.records) << algorithm << " " << compressor << " " << threads;
    }
  }
}

}  // namespace
}  // namespace gradcomp
