#include "gradcomp/train/run_checkpoint.hpp"

#include <filesystem>
#include <fstream>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"  // write_file_atomically
#include "gradcomp/train/checkpoint.hpp"

namespace gradcomp {

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
    write_file_atomically(run + "/checkpoint/trainer.json",
                          totals_.checkpoint(step).dump(2) + "\n");
  }
}

template <class T>
std::uint64_t RunCheckpoint<T>::restore(const std::string& run) {
  const std::string path = run + "/checkpoint/trainer.json";
  require(std::filesystem::exists(path),
          "'{}' has no checkpoint (checkpoint/trainer.json); it cannot be resumed", run);
  std::ifstream in(path);
  const auto saved = nlohmann::ordered_json::parse(in);
  const auto step = saved["step"].get<std::uint64_t>();
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
