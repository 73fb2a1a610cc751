#include "gradcomp/train/run_data.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/data/idx.hpp"
#include "gradcomp/data/synthetic.hpp"
#include "gradcomp/data/text_formats.hpp"
#include "gradcomp/model/registry.hpp"

namespace gradcomp {

namespace {

constexpr const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

// A seeded split: the last test_fraction of a shuffled order is the test set.
RunData hold_out(const Dataset& all, double fraction, std::uint64_t seed) {
  // Nothing held out: the file order stays (contiguous partitions follow the generators' groups).
  if (fraction == 0) return {all, subset(all, std::span<const std::size_t>()), ""};
  std::vector<std::size_t> order(all.samples);
  std::iota(order.begin(), order.end(), 0);
  RandomStream rng(seed, Purpose::kPartition, 1, 0, kSharedWorker);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const auto test_count = static_cast<std::size_t>(fraction * static_cast<double>(all.samples));
  require(test_count < all.samples, "data.test_fraction = {} leaves no training samples", fraction);
  const std::span<const std::size_t> both(order);
  RunData data{subset(all, both.first(all.samples - test_count)),
               subset(all, both.last(test_count)), ""};
  return data;
}

// 0..n−1 with `wanted` of them, drawn with a fixed key (not run.seed: seeds vary the training, not
// the data), moved to the front by a partial Fisher–Yates shuffle. `use` tells the draws apart.
std::vector<std::size_t> fixed_draw(std::size_t n, std::size_t wanted, std::uint64_t use) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  RandomStream rng(0, Purpose::kPartition, use, 0, kSharedWorker);
  for (std::size_t i = 0; i < wanted; ++i) std::swap(order[i], order[i + rng.below(n - i)]);
  return order;
}

Dataset subset_sorted(const Dataset& all, std::span<const std::size_t> indices) {
  std::vector<std::size_t> sorted(indices.begin(), indices.end());
  std::sort(sorted.begin(), sorted.end());
  return subset(all, sorted);
}

// data.train_samples / data.test_samples: a random subset (smaller runs).
Dataset limited(Dataset all, std::size_t wanted, const char* key) {
  if (wanted == 0 || wanted == all.samples) return all;
  require(wanted < all.samples, "data.{} = {} but the set has only {} samples", key, wanted,
          all.samples);
  const auto order = fixed_draw(all.samples, wanted, 2);
  return subset_sorted(all, std::span<const std::size_t>(order).first(wanted));
}

// data.validation_samples: that many training samples become the evaluation set (tuning without
// the test set, as [BlockEF] tunes its step sizes on a hold-out split); the test set is set aside.
RunData validation_split(const Dataset& train, std::size_t wanted) {
  require(wanted < train.samples,
          "data.validation_samples = {} but the training set has only {} samples; hold out fewer",
          wanted, train.samples);
  const auto order = fixed_draw(train.samples, wanted, 3);
  const std::span<const std::size_t> both(order);
  return {subset_sorted(train, both.subspan(wanted)), subset_sorted(train, both.first(wanted)), ""};
}

std::uint64_t half_the_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return std::uint64_t{8} << 30;  // unknown: 8 GiB
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
}

LabelKind label_kind(const TrainConfig& c) {
  return c.labels == "regression" ? LabelKind::kRegression : LabelKind::kClassification;
}

Dataset read_table(const TrainConfig& c, const std::string& path) {
  if (c.data_source == "libsvm") return read_libsvm(path, c.features, label_kind(c));
  return read_csv(path, label_kind(c));
}

RunData load_all_data(const TrainConfig& c) {
  if (c.data_source == "fashion-mnist") {
    const std::string dir = kFashionMnist;
    return {read_idx(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz"),
            read_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz"), ""};
  }
  if (c.data_source == "idx") {
    require(!c.train_path.empty() && !c.train_labels.empty(),
            "data.source = \"idx\" needs data.train and data.train_labels (and data.test, "
            "data.test_labels for a test set)");
    Dataset train = read_idx(c.train_path, c.train_labels);
    if (c.test_path.empty()) return hold_out(train, c.test_fraction, c.seed);
    return {std::move(train), read_idx(c.test_path, c.test_labels), ""};
  }
  if (c.data_source == "libsvm" || c.data_source == "csv") {
    require(!c.train_path.empty(), "data.source = \"{}\" needs data.train = \"path\"",
            c.data_source);
    Dataset train = read_table(c, c.train_path);
    if (c.test_path.empty()) return hold_out(train, c.test_fraction, c.seed);
    Dataset test = read_table(c, c.test_path);
    require(test.features <= train.features || c.data_source != "libsvm",
            "test file '{}' has {} features, the training file {}; set data.features", c.test_path,
            test.features, train.features);
    test.features = train.features;
    return {std::move(train), std::move(test), ""};
  }
  if (c.data_source == "npy") {
    require(!c.train_path.empty() && !c.train_labels.empty(),
            "data.source = \"npy\" needs data.train (features .npy) and data.train_labels "
            "(labels .npy)");
    Dataset train = read_npy_dataset(c.train_path, c.train_labels, label_kind(c));
    if (c.test_path.empty()) return hold_out(train, c.test_fraction, c.seed);
    return {std::move(train), read_npy_dataset(c.test_path, c.test_labels, label_kind(c)), ""};
  }
  if (c.data_source == "generate") {
    require(!c.generator.empty(),
            "data.source = \"generate\" needs data.generator, e.g. \"madelon:samples=2600\"");
    return hold_out(generate_dataset(c.generator, c.seed), c.test_fraction, c.seed);
  }
  throw InvalidInput(
      fmt::format("data.source = '{}'; choose fashion-mnist, idx, libsvm, csv, npy or generate",
                  c.data_source));
}

}  // namespace

RunData load_run_data(const TrainConfig& c) {
  RunData data = load_all_data(c);
  if (c.validation_samples > 0) data = validation_split(data.train, c.validation_samples);
  data.train = limited(std::move(data.train), c.train_samples, "train_samples");
  data.test = limited(std::move(data.test), c.test_samples, "test_samples");
  if (reads_dense_rows_only(c.model) && data.train.sparse) {
    const std::uint64_t limit = half_the_memory();
    const double megabytes = 4e-6 * static_cast<double>(data.train.features) *
                             static_cast<double>(data.train.samples + data.test.samples);
    data.train = densified(std::move(data.train), limit);
    data.test = densified(std::move(data.test), limit);
    data.note = fmt::format(
        "'{}' is sparse and {} reads dense rows: made dense ({} features, {:.3g} MB)",
        data.train.name, c.model.substr(0, c.model.find(':')), data.train.features, megabytes);
  }
  return data;
}

}  // namespace gradcomp
