#pragma once
// What a run's checkpoint holds and how every rank writes and reads its part (docs/outputs.md
// "Checkpoints"): each rank its algorithm state and the model's running statistics
// (checkpoint/rank-R.bin, train/checkpoint.hpp), then rank 0 the run's traffic totals and the step
// (checkpoint/trainer.json), the file a resume checks every rank's step against. trainer.json is
// written last: a run stopped while the ranks write resumes from the previous complete checkpoint.
// Every file carries a checksum: each rank file its own, trainer.json one over its contents and
// one of the run's config.toml, so a damaged checkpoint or a hand-edited configuration is refused
// (InvalidInput naming the file) instead of resuming into another result.
#include <cstdint>
#include <string>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/exchange/traffic_totals.hpp"
#include "gradcomp/model/objective.hpp"

namespace gradcomp {

// Checks that `run` can be resumed — checkpoint/trainer.json exists and is intact, and config.toml
// is the one the run started with — and returns the checkpoint's step. InvalidInput naming the
// file otherwise.
std::uint64_t verify_resumable(const std::string& run);

// The value trainer.json records for a config.toml holding `text`.
std::string config_checksum(const std::string& text);

template <class T>
class RunCheckpoint {
 public:
  RunCheckpoint(Algorithm<T>& algorithm, Objective<T>& objective, TrafficTotals& totals,
                Communicator& communicator);

  // Rank 0, before the first save of a new run: the text of the config.toml it wrote.
  void record_config(const std::string& text) { config_checksum_ = config_checksum(text); }
  // Collective: `directory` is rank 0's run directory (the other ranks' argument is ignored).
  void save(std::uint64_t step, const std::string& directory);
  // Collective: fills the algorithm, the statistics and the totals from `run`'s checkpoint and
  // returns its step. InvalidInput when there is none, a file is corrupt, or a rank's file is at
  // another step.
  std::uint64_t restore(const std::string& run);

 private:
  std::vector<StateBuffer<T>> buffers();

  Algorithm<T>& algorithm_;
  Objective<T>& objective_;
  TrafficTotals& totals_;
  Communicator& communicator_;
  std::string config_checksum_;
};

extern template class RunCheckpoint<float>;
extern template class RunCheckpoint<double>;

}  // namespace gradcomp
