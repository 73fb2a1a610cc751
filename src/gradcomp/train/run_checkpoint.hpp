#pragma once
// What a run's checkpoint holds and how every rank writes and reads its part (docs/outputs.md
// "Checkpoints"): each rank its algorithm state and the model's running statistics
// (checkpoint/rank-R.bin, train/checkpoint.hpp), then rank 0 the run's traffic totals and the step
// (checkpoint/trainer.json), the file a resume checks every rank's step against. trainer.json is
// written last: a run stopped while the ranks write resumes from the previous complete checkpoint.
#include <cstdint>
#include <string>

#include "gradcomp/algo/algorithm.hpp"
#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/model/objective.hpp"
#include "gradcomp/exchange/traffic_totals.hpp"

namespace gradcomp {

template <class T>
class RunCheckpoint {
 public:
  RunCheckpoint(Algorithm<T>& algorithm, Objective<T>& objective, TrafficTotals& totals,
                Communicator& communicator);

  // Collective: `directory` is rank 0's run directory (the other ranks' argument is ignored).
  void save(std::uint64_t step, const std::string& directory);
  // Collective: fills the algorithm, the statistics and the totals from `run`'s checkpoint and
  // returns its step. InvalidInput when there is none, or a rank's file is at another step.
  std::uint64_t restore(const std::string& run);

 private:
  std::vector<StateBuffer<T>> buffers();

  Algorithm<T>& algorithm_;
  Objective<T>& objective_;
  TrafficTotals& totals_;
  Communicator& communicator_;
};

extern template class RunCheckpoint<float>;
extern template class RunCheckpoint<double>;

}  // namespace gradcomp
