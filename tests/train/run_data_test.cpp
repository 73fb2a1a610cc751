// The data a run trains and evaluates on (train/run_data.hpp): the validation split that replaces
// the test set, and the subsets applied after it.
#include "gradcomp/train/run_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "gradcomp/core/error.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

// A CSV whose single feature is the sample's row number, so a split can be checked row by row.
std::string numbered_csv(const std::string& name, std::size_t rows, std::size_t first) {
  const auto path = testing::scratch_directory() / ("gradcomp_run_data_" + name);
  std::ofstream out(path);
  for (std::size_t i = 0; i < rows; ++i) out << (i % 2) << ',' << first + i << '\n';
  return path.string();
}

TrainConfig csv_config(const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {
      "data.source=\"csv\"", "data.train=\"" + numbered_csv("train.csv", 50, 0) + "\"",
      "data.test=\"" + numbered_csv("test.csv", 7, 1000) + "\"", "model.name=\"logistic\""};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return parse_config("", "test.toml", all);
}

std::vector<float> ids(const Dataset& d) {
  return d.dense;
}

TEST(RunData, ValidationSamplesReplaceTheTestSetWithHeldOutTrainingRows) {
  const RunData plain = load_run_data(csv_config({}));
  EXPECT_EQ(plain.train.samples, 50U);
  EXPECT_EQ(plain.test.samples, 7U);

  const RunData split = load_run_data(csv_config({"data.validation_samples=12"}));
  ASSERT_EQ(split.train.samples, 38U);
  ASSERT_EQ(split.test.samples, 12U);
  std::set<float> seen;
  for (const float id : ids(split.train)) seen.insert(id);
  for (const float id : ids(split.test)) {
    EXPECT_LT(id, 50.0F) << "a test row leaked into the validation set";
    EXPECT_TRUE(seen.insert(id).second) << "row " << id << " is in both";
  }
  EXPECT_EQ(seen.size(), 50U);
  // Both parts keep file order, and the draw does not depend on run.seed.
  EXPECT_TRUE(std::is_sorted(split.test.dense.begin(), split.test.dense.end()));
  EXPECT_TRUE(std::is_sorted(split.train.dense.begin(), split.train.dense.end()));
  const RunData again = load_run_data(csv_config({"data.validation_samples=12", "run.seed=9"}));
  EXPECT_EQ(ids(again.test), ids(split.test));

  // train_samples then draws from what is left for training.
  const RunData smaller =
      load_run_data(csv_config({"data.validation_samples=12", "data.train_samples=20"}));
  EXPECT_EQ(smaller.train.samples, 20U);
  for (const float id : ids(smaller.train)) {
    EXPECT_EQ(std::count(split.test.dense.begin(), split.test.dense.end(), id), 0) << id;
  }
}

TEST(RunData, ValidationSamplesMustLeaveTrainingSamples) {
  try {
    (void)load_run_data(csv_config({"data.validation_samples=50"}));
    FAIL() << "no error";
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(),
                 "data.validation_samples = 50 but the training set has only 50 samples; hold out "
                 "fewer");
  }
}

}  // namespace
}  // namespace gradcomp
