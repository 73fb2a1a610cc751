#include "gradcomp/train/run_checkpoint.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/fnv_hash.hpp"
#include "gradcomp/core/npy.hpp"  // write_file_atomically
#include "gradcomp/train/checkpoint.hpp"

namespace gradcomp {

namespace {

std::string checksum_of(const std::string& text) {
  return fmt::format("{:016x}", FnvHash().add_text(text).value());
}

std::string trainer_path(const std::string& run) {
  return run + "/checkpoint/trainer.json";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// trainer.json's checksum covers its exact text, with the checksum's own 16 digits read as
// zeros: any changed byte is noticed, even one that would parse to the same number.
constexpr std::string_view kChecksumKey = "\"checksum\": \"";
constexpr std::size_t kChecksumDigits = 16;

std::string with_checksum(nlohmann::ordered_json record) {
  record["checksum"] = std::string(kChecksumDigits, '0');
  std::string text = record.dump(2) + "\n";
  const std::size_t at = text.rfind(kChecksumKey) + kChecksumKey.size();
  text.replace(at, kChecksumDigits, checksum_of(text));
  return text;
}

// trainer.json's record, once its checksum matches its text.
nlohmann::ordered_json read_trainer_record(const std::string& run) {
  const std::string path = trainer_path(run);
  require(std::filesystem::exists(path),
          "'{}' has no checkpoint (checkpoint/trainer.json); it cannot be resumed", run);
  const auto corrupt = [&](const std::string& why) {
    return InvalidInput(fmt::format(
        "checkpoint '{}' is corrupt: {} (the file was changed or damaged after it was written); "
        "restore it from a copy, or start the run again",
        path, why));
  };
  std::string text = read_text(path);
  nlohmann::ordered_json record;
  try {
    record = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(fmt::format("it is not JSON ({})", e.what()));
  }
  const std::size_t key = text.rfind(kChecksumKey);
  if (key == std::string::npos || key + kChecksumKey.size() + kChecksumDigits > text.size())
    throw corrupt("it has no checksum");
  const std::size_t at = key + kChecksumKey.size();
  const std::string stored = text.substr(at, kChecksumDigits);
  text.replace(at, kChecksumDigits, std::string(kChecksumDigits, '0'));
  if (checksum_of(text) != stored)
    throw corrupt("its contents do not match the checksum saved with them");
  if (!record.is_object() || !record.contains("step") || !record["step"].is_number_unsigned() ||
      !record.contains("config_checksum") || !record["config_checksum"].is_string())
    throw corrupt("it lacks the step or the configuration's checksum");
  return record;
}

}  // namespace

std::string config_checksum(const std::string& text) {
  return checksum_of(text);
}

std::uint64_t verify_resumable(const std::string& run) {
  const auto record = read_trainer_record(run);
  const std::string config = run + "/config.toml";
  require(std::filesystem::exists(config), "'{}' is missing: the run cannot be resumed without it",
          config);
  require(config_checksum(read_text(config)) == record["config_checksum"].get<std::string>(),
          "'{}' was changed after the run started (it no longer matches the checksum in "
          "checkpoint/trainer.json): a resumed run keeps its configuration. Restore the file, or "
          "start a new run from the changed one (gradcomp train {} --out NEW_DIRECTORY)",
          config, config);
  return record["step"].get<std::uint64_t>();
}

template <class T>
RunCheckpoint<T>::RunCheckpoint(Algorithm<T>& algorithm, Objective<T>& objective,
                                TrafficTotals& totals, Communicator& communicator)
    : algorithm_(algorithm), objective_(objective), totals_(totals), communicator_(communicator) {}

template <class T>
std::vector<StateBuffer<T>> RunCheckpoint<T>::buffers() {
  auto buffers = algorithm_.state();
  for (auto& s : objective_.statistics()) buffers.push_back(s);
  return buffers;
}

template <class T>
void RunCheckpoint<T>::save(std::uint64_t step, const std::string& directory) {
  std::vector<std::uint8_t> name(directory.begin(), directory.end());
  communicator_.broadcast(name, 0);
  const std::string run(name.begin(), name.end());
  const std::vector<double> scalars = algorithm_.totals();
  save_checkpoint<T>(checkpoint_path(run, communicator_.rank()), step, buffers(), scalars);
  communicator_.barrier();
  if (communicator_.rank() == 0) {
    auto record = totals_.checkpoint(step);
    record["config_checksum"] = config_checksum_;
    write_file_atomically(trainer_path(run), with_checksum(std::move(record)));
  }
}

template <class T>
std::uint64_t RunCheckpoint<T>::restore(const std::string& run) {
  const auto saved = read_trainer_record(run);
  const auto step = saved["step"].get<std::uint64_t>();
  config_checksum_ = saved["config_checksum"].get<std::string>();
  std::vector<double> scalars;
  const std::uint64_t rank_step =
      load_checkpoint<T>(checkpoint_path(run, communicator_.rank()), buffers(), scalars);
  require(rank_step == step, "checkpoint of rank {} is at step {}, the run's at step {}",
          communicator_.rank(), rank_step, step);
  algorithm_.restore_totals(scalars);
  algorithm_.restored();
  totals_.restore(saved);
  return step;
}

template class RunCheckpoint<float>;
template class RunCheckpoint<double>;

}  // namespace gradcomp
