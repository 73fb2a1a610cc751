// Reading experiments (reproduce/experiment.hpp): arm expansion per mode, validation with exact
// messages, and every shipped experiments/*.toml parsing in both modes.
#include "gradcomp/reproduce/experiment.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gradcomp/core/error.hpp"
#include "gradcomp/reproduce/arm_results.hpp"
#include "gradcomp/train/config.hpp"

namespace gradcomp {
namespace {

const char* kExperiment = R"toml(
[experiment]
name = "demo"
title = "A demo"
seeds = 3
quick_seeds = 2

[base.model]
name = "logistic:l2=-1"

[quick]
set = ["run.steps=5"]

[[arm]]
id = "sgd"
label = "SGD"
set = ["compressor.name=identity"]
quick_set = ["run.steps=7"]

[[arm]]
id = "def-{r}"
label = "DEF r={r}"
set = ["algorithm.name=def", "compressor.name=rbgs", "compressor.ratio={r}"]
values = { r = [16, 64, 256] }
quick_values = { r = [64] }

[[arm]]
id = "slow"
set = []
modes = ["full"]

[[check]]
claim = "DEF keeps up"
expect = "accuracy(def-64) >= accuracy(sgd) - 1"

[[check]]
claim = "only in full mode"
expect = "accuracy(def-256) >= accuracy(slow)"
modes = ["full"]

[[plot]]
name = "curves"
arms = ["sgd", "def-*"]
)toml";

std::string error_of(const std::string& text, ReproduceMode mode = ReproduceMode::kFull) {
  try {
    parse_experiment(text, "demo.toml", mode);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(Experiment, FullModeExpandsEveryValue) {
  const Experiment ex = parse_experiment(kExperiment, "demo.toml", ReproduceMode::kFull);
  EXPECT_EQ(ex.name, "demo");
  EXPECT_EQ(ex.seeds, 3U);
  EXPECT_TRUE(ex.mode_overrides.empty());
  ASSERT_EQ(ex.arms.size(), 5U);
  EXPECT_EQ(ex.arms[2].id, "def-64");
  EXPECT_EQ(ex.arms[2].label, "DEF r=64");
  EXPECT_EQ(ex.arms[2].overrides.back(), "compressor.ratio=64");
  EXPECT_EQ(ex.arms[4].label, "slow");  // the id when there is no label
  EXPECT_EQ(ex.arms[0].overrides, (std::vector<std::string>{"compressor.name=identity"}));
  EXPECT_EQ(ex.checks.size(), 2U);
  ASSERT_EQ(ex.plots.size(), 1U);
  EXPECT_EQ(ex.plots[0].arms, (std::vector<std::string>{"sgd", "def-16", "def-64", "def-256"}));
  // The base is a training configuration.
  EXPECT_EQ(parse_config(ex.config_text, "base", {}).model, "logistic:l2=-1");
}

TEST(Experiment, QuickModeUsesQuickValuesSeedsAndOverrides) {
  const Experiment ex = parse_experiment(kExperiment, "demo.toml", ReproduceMode::kQuick);
  EXPECT_EQ(ex.seeds, 2U);
  EXPECT_EQ(ex.mode_overrides, (std::vector<std::string>{"run.steps=5"}));
  ASSERT_EQ(ex.arms.size(), 2U);
  EXPECT_EQ(ex.arms[1].id, "def-64");
  EXPECT_EQ(ex.arms[0].overrides,
            (std::vector<std::string>{"compressor.name=identity", "run.steps=7"}));
  EXPECT_EQ(ex.checks.size(), 1U);
  EXPECT_EQ(ex.plots[0].arms, (std::vector<std::string>{"sgd", "def-64"}));
}

TEST(Experiment, ZippedValuesPairUp) {
  std::string text = kExperiment;
  text +=
      "[[arm]]\nid = \"sgd-b{b}\"\nset = [\"run.batch={b}\", \"algorithm.lr={lr}\"]\n"
      "values = { b = [8, 32], lr = [0.05, 0.2] }\nzip = true\n";
  const Experiment ex = parse_experiment(text, "demo.toml", ReproduceMode::kFull);
  ASSERT_EQ(ex.arms.size(), 7U);
  EXPECT_EQ(ex.arms[5].id, "sgd-b8");
  EXPECT_EQ(ex.arms[5].overrides, (std::vector<std::string>{"run.batch=8", "algorithm.lr=0.05"}));
  EXPECT_EQ(ex.arms[6].overrides, (std::vector<std::string>{"run.batch=32", "algorithm.lr=0.2"}));
  EXPECT_EQ(error_of(kExperiment + std::string("[[arm]]\nid = \"x{b}\"\nvalues = { b = [8, 32], "
                                               "lr = [0.05] }\nzip = true\n")),
            "demo.toml: [[arm]] #4: with zip = true every values array needs 2 items");
}

TEST(Experiment, TablesExpandPatternsAndExplicitRows) {
  std::string text = kExperiment;
  text +=
      "[[table]]\ntitle = \"Table 1\"\ncolumn_label = \"method\"\ncolumns = [\"16\", \"64\"]\n"
      "rows = [\"sgd\", \"def-{c}\", [\"slow\", \"\"]]\nfunction = \"best_accuracy\"\n";
  const Experiment ex = parse_experiment(text, "demo.toml", ReproduceMode::kFull);
  ASSERT_EQ(ex.tables.size(), 1U);
  const TableSpec& table = ex.tables[0];
  EXPECT_EQ(table.title, "Table 1");
  EXPECT_EQ(table.column_label, "method");
  EXPECT_EQ(table.function, "best_accuracy");
  EXPECT_EQ(table.labels, (std::vector<std::string>{"sgd", "def", "slow"}));
  EXPECT_EQ(table.cells, (std::vector<std::vector<std::string>>{
                             {"sgd", "sgd"}, {"def-16", "def-64"}, {"slow", ""}}));
  // def-16 and slow are full-mode arms only.
  EXPECT_EQ(error_of(text, ReproduceMode::kQuick),
            "demo.toml: [[table]] #1: no arm 'def-16' in this mode");
  EXPECT_EQ(error_of(kExperiment + std::string("[[table]]\ntitle = \"t\"\ncolumns = [\"16\"]\n"
                                               "rows = [[\"sgd\", \"def-16\"]]\n")),
            "demo.toml: [[table]] #1: an explicit row has 2 arm ids for 1 columns");
  EXPECT_EQ(error_of(kExperiment + std::string("[[table]]\ntitle = \"t\"\ncolumns = [\"16\"]\n"
                                               "rows = [\"sgd\"]\nlabels = [\"a\", \"b\"]\n")),
            "demo.toml: [[table]] #1: labels has 2 entries for 1 rows");
}

TEST(Experiment, ErrorsNameTheProblem) {
  std::string text = kExperiment;
  EXPECT_EQ(error_of(text + "[[arm]]\nid = \"sgd\"\n"),
            "demo.toml: [[arm]] #4: arm id 'sgd' is used twice");
  EXPECT_EQ(error_of(text + "[[check]]\nclaim = \"x\"\nexpect = \"accuracy(nope) > 1\"\n"),
            "demo.toml: [[check]] #3: accuracy(nope): no arm 'nope' in this mode");
  EXPECT_EQ(error_of(text + "[[arm]]\nid = \"x\"\ncolour = 1\n"),
            "demo.toml: [[arm]] #4: unknown key 'colour'; valid keys: id, label, set, quick_set, "
            "values, quick_values, zip, modes");
  EXPECT_EQ(
      error_of(text + "[extra]\n"),
      "demo.toml: unknown key 'extra'; valid keys: experiment, base, quick, arm, check, plot, "
      "table");
  EXPECT_EQ(error_of(text + "[[arm]]\nid = \"y-{k}\"\n"),
            "demo.toml: [[arm]] #4: id 'y-{k}' has a placeholder without values");
  EXPECT_EQ(error_of(text + "[[plot]]\nname = \"p\"\narms = [\"ef-*\"]\n"),
            "demo.toml: [[plot]] #2: no arm 'ef-*' in this mode");
  EXPECT_EQ(error_of(text + "[[plot]]\nname = \"p\"\narms = [\"sgd\"]\ny = \"acc\"\n"),
            "demo.toml: [[plot]] #2: --y 'acc'; choose accuracy, loss, suboptimality, error or "
            "geometry");
  EXPECT_EQ(error_of(text + "[[plot]]\nname = \"p\"\narms = [\"sgd\"]\nx = \"steps\"\n"),
            "demo.toml: [[plot]] #2: --x 'steps'; choose epoch, bits, time or time:NETWORK (e.g. "
            "time:10Gbit)");
  EXPECT_EQ(error_of("[experiment]\nname = \"x\"\n[[arm]]\nid = \"a\"\n"),
            "demo.toml: needs a [base] table (a training configuration)");
  // A check on an arm that quick mode does not run must say modes = ["full"].
  std::string quick_gap = kExperiment;
  quick_gap += "[[check]]\nclaim = \"c\"\nexpect = \"accuracy(def-16) > 0\"\n";
  EXPECT_EQ(error_of(quick_gap, ReproduceMode::kQuick),
            "demo.toml: [[check]] #3: accuracy(def-16): no arm 'def-16' in this mode");
  EXPECT_EQ(error_of(quick_gap, ReproduceMode::kFull), "");
}

// Every shipped experiment parses in both modes, its checks call known functions, and every
// arm's configuration is valid.
// A baseline pattern gives one arm per column (the gap's subtrahend); plot keys are read, with
// plot_x's name as the default x label.
TEST(Experiment, TableBaselinesAndPlots) {
  const std::string table =
      "[[table]]\ntitle = \"gap\"\ncolumns = [\"16\", \"64\"]\nrows = [\"def-{c}\"]\n";
  Experiment ex = parse_experiment(
      kExperiment + table + "baseline = \"sgd\"\nplot = \"gap\"\nplot_log_x = true\n", "demo.toml",
      ReproduceMode::kFull);
  ASSERT_EQ(ex.tables.size(), 1U);
  EXPECT_EQ(ex.tables[0].baseline, (std::vector<std::string>{"sgd", "sgd"}));
  EXPECT_EQ(ex.tables[0].plot, "gap");
  EXPECT_EQ(ex.tables[0].plot_x, "sends");
  EXPECT_EQ(ex.tables[0].plot_x_label, "sends");
  EXPECT_TRUE(ex.tables[0].plot_log_x);
  ex = parse_experiment(kExperiment + table + "baseline = \"def-{c}\"\n", "demo.toml",
                        ReproduceMode::kFull);
  EXPECT_EQ(ex.tables[0].baseline, (std::vector<std::string>{"def-16", "def-64"}));
  EXPECT_TRUE(parse_experiment(kExperiment + table, "demo.toml", ReproduceMode::kFull)
                  .tables[0]
                  .baseline.empty());
  EXPECT_EQ(error_of(kExperiment + table + "baseline = \"sdg\"\n"),
            "demo.toml: [[table]] #1: no arm 'sdg' in this mode");
  EXPECT_EQ(error_of(kExperiment + table + "plot_log_x = \"yes\"\n"),
            "demo.toml: [[table]] #1: plot_log_x must be true or false");
}

TEST(Experiment, ShippedExperimentsAreValid) {
  const auto names = known_experiments();
  ASSERT_GE(names.size(), 1U);
  for (const auto& name : names) {
    for (const auto mode : {ReproduceMode::kQuick, ReproduceMode::kFull}) {
      SCOPED_TRACE(name);
      const std::string path = find_experiment(name);
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      const Experiment ex = parse_experiment(text.str(), path, mode);
      EXPECT_FALSE(ex.checks.empty());
      for (const auto& check : ex.checks) {
        for (const auto& c : check.test.calls()) EXPECT_NO_THROW(validate_call(c));
      }
      for (const auto& arm : ex.arms) {
        auto overrides = ex.mode_overrides;
        overrides.insert(overrides.end(), arm.overrides.begin(), arm.overrides.end());
        EXPECT_NO_THROW(validate_specs(parse_config(ex.config_text, arm.id, overrides)));
      }
    }
  }
}

TEST(Experiment, UnknownNamesListTheKnownOnes) {
  try {
    find_experiment("nope");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()).rfind("no experiment 'nope'; known: ", 0), 0U);
  }
}

}  // namespace
}  // namespace gradcomp
