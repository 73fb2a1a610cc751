// The reproduction suite's check language (reproduce/claim.hpp) and the metric functions a check
// calls on an arm's runs (reproduce/arm_results.hpp).
#include "gradcomp/reproduce/claim.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "gradcomp/core/error.hpp"
#include "gradcomp/reproduce/arm_results.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

// Values by call text, e.g. {"accuracy(sgd)", 90}.
ClaimSource table(const std::map<std::string, double>& values) {
  return [values](const ClaimCall& call) { return values.at(call.text); };
}

std::string error_of(const std::string& expression) {
  try {
    Claim claim(expression);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(Claim, ArithmeticAndPrecedence) {
  const auto none = table({});
  EXPECT_TRUE(Claim("1 + 2 * 3 >= 7").evaluate(none).holds);
  EXPECT_FALSE(Claim("(1 + 2) * 3 <= 8").evaluate(none).holds);
  EXPECT_TRUE(Claim("-2 - -3 > 0.5").evaluate(none).holds);
  EXPECT_TRUE(Claim("1 / 4 >= 0.25 and 1 / 4 <= 0.25").evaluate(none).holds);
  EXPECT_TRUE(Claim("5e-12 < 1e-11").evaluate(none).holds);
  EXPECT_TRUE(Claim("1 > 2 or 3 > 2").evaluate(none).holds);
  EXPECT_FALSE(Claim("1 > 2 or 3 > 4").evaluate(none).holds);
  // 'and' binds tighter than 'or'.
  EXPECT_TRUE(Claim("3 > 2 or 1 > 2 and 1 > 2").evaluate(none).holds);
  EXPECT_FALSE(Claim("(3 > 2 or 1 > 2) and 1 > 2").evaluate(none).holds);
}

TEST(Claim, CallsWithArmIdsAndNumbers) {
  const Claim claim("accuracy(def-a-256) >= accuracy(sgd) - 1.0 and time_to(def-64, 85) < 2");
  const auto calls = claim.calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[0].function, "accuracy");
  EXPECT_EQ(calls[0].arm, "def-a-256");
  EXPECT_TRUE(calls[0].parameters.empty());
  EXPECT_EQ(calls[2].function, "time_to");
  EXPECT_EQ(calls[2].arm, "def-64");
  ASSERT_EQ(calls[2].parameters.size(), 1U);
  EXPECT_EQ(calls[2].parameters[0], 85);
  EXPECT_EQ(calls[2].text, "time_to(def-64, 85)");

  const auto outcome = claim.evaluate(table(
      {{"accuracy(def-a-256)", 85.5}, {"accuracy(sgd)", 86.0}, {"time_to(def-64, 85)", 1.5}}));
  EXPECT_TRUE(outcome.holds);
  ASSERT_EQ(outcome.comparisons.size(), 2U);
  EXPECT_EQ(outcome.comparisons[0], "accuracy(def-a-256) = 85.5 >= accuracy(sgd) - 1.0 = 85: yes");
  EXPECT_EQ(outcome.comparisons[1], "time_to(def-64, 85) = 1.5 < 2 = 2: yes");
}

TEST(Claim, MissingValuesMakeComparisonsFail) {
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(Claim("accuracy(ef) <= 50").evaluate(table({{"accuracy(ef)", nan}})).holds);
  EXPECT_FALSE(Claim("accuracy(ef) >= 50").evaluate(table({{"accuracy(ef)", nan}})).holds);
  EXPECT_TRUE(Claim("diverged(ef) > 0 or accuracy(ef) <= 50")
                  .evaluate(table({{"diverged(ef)", 1}, {"accuracy(ef)", nan}}))
                  .holds);
  const auto inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(Claim("time_to(ef, 80) > 100").evaluate(table({{"time_to(ef, 80)", inf}})).holds);
  // Two arms that never reach the target: no comparison between them holds.
  const auto never = table({{"time_to(a, 80)", inf}, {"time_to(b, 80)", inf}});
  EXPECT_FALSE(Claim("time_to(a, 80) <= time_to(b, 80)").evaluate(never).holds);
  EXPECT_FALSE(Claim("2 * time_to(a, 80) >= time_to(b, 80)").evaluate(never).holds);
}

TEST(Claim, SyntaxErrorsNameThePosition) {
  EXPECT_EQ(error_of("accuracy(sgd) >="),
            "check 'accuracy(sgd) >=': unexpected end at position 17 (''); write e.g. "
            "\"accuracy(def) >= accuracy(sgd) - 1\"");
  EXPECT_EQ(error_of("accuracy sgd > 1"),
            "check 'accuracy sgd > 1': expected '(' after accuracy at position 10 ('sgd > 1'); "
            "write e.g. \"accuracy(def) >= accuracy(sgd) - 1\"");
  EXPECT_EQ(error_of("accuracy_at(sgd, x) > 1"),
            "check 'accuracy_at(sgd, x) > 1': argument 'x' is not a number at position 20 (' > "
            "1'); write e.g. \"accuracy(def) >= accuracy(sgd) - 1\"");
  EXPECT_EQ(error_of("1 > 2)"),
            "check '1 > 2)': unexpected text at position 6 (')'); write e.g. "
            "\"accuracy(def) >= accuracy(sgd) - 1\"");
}

SeedRun run_of(std::vector<nlohmann::json> records, bool diverged = false) {
  return {"", std::move(records), diverged};
}

ClaimCall call(const std::string& function, std::vector<double> parameters = {}) {
  return {function, "arm", std::move(parameters), function + "(arm)"};
}

TEST(ArmResults, MeanAndSampleStdOverSeedsWithoutDivergedRuns) {
  ArmResults arm{{"arm", "Arm", {}},
                 {run_of({{{"epoch", 1.0}, {"test_accuracy", 0.5}},
                          {{"epoch", 2.0}, {"test_accuracy", 0.80}}}),
                  run_of({{{"epoch", 1.0}, {"test_accuracy", 0.6}},
                          {{"epoch", 2.0}, {"test_accuracy", 0.84}}}),
                  run_of({{{"epoch", 1.0}, {"test_accuracy", 0.1}}}, true)}};
  EXPECT_NEAR(call_value(arm, call("accuracy")), 82, 1e-12);
  EXPECT_NEAR(call_value(arm, call("std_accuracy")), std::sqrt(8.0), 1e-12);
  EXPECT_NEAR(call_value(arm, call("accuracy_at", {1.5})), 55, 1e-12);
  EXPECT_NEAR(call_value(arm, call("diverged")), 1.0 / 3.0, 1e-15);
  EXPECT_EQ(call_value(arm, call("time_to", {85})), std::numeric_limits<double>::infinity());
  arm.seeds.resize(1);
  EXPECT_EQ(call_value(arm, call("std_accuracy")), 0);
}

// A collapsed seed (summary.json's "collapsed", written by the trainer) keeps its accuracy in the
// mean and is counted by collapsed(); read_seed_run finds it in the run directory.
TEST(ArmResults, CollapsedSeedsCountInTheMeanAndInCollapsed) {
  const auto dir = testing::scratch_directory() / "gradcomp_collapsed_seed";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "metrics.jsonl") << R"({"epoch":0.0,"test_accuracy":0.1})" << '\n'
                                       << R"({"epoch":1.0,"test_accuracy":0.1})" << '\n';
  std::ofstream(dir / "summary.json")
      << R"({"chance_accuracy":0.1,"collapsed":{"step":20,"test_accuracy":0.1}})";
  const SeedRun collapsed = read_seed_run(dir.string());
  EXPECT_TRUE(collapsed.collapsed);
  EXPECT_FALSE(collapsed.diverged);
  std::ofstream(dir / "summary.json") << R"({"chance_accuracy":0.1})";
  EXPECT_FALSE(read_seed_run(dir.string()).collapsed);
  std::filesystem::remove_all(dir);

  ArmResults arm{{"arm", "Arm", {}},
                 {collapsed, run_of({{{"epoch", 1.0}, {"test_accuracy", 0.7}}}),
                  run_of({{{"epoch", 1.0}, {"test_accuracy", 0.4}}}, true)}};
  EXPECT_NEAR(call_value(arm, call("accuracy")), 40, 1e-12);  // (10 + 70) / 2
  EXPECT_NEAR(call_value(arm, call("collapsed")), 1.0 / 3.0, 1e-15);
  EXPECT_NEAR(call_value(arm, call("diverged")), 1.0 / 3.0, 1e-15);
  EXPECT_EQ(collapsed_seeds(arm), 1U);
  EXPECT_EQ(diverged_seeds(arm), 1U);
}

// sends = last step × mean density: RBGS at r = 64 for 640 steps sends a coordinate 10 times.
TEST(ArmResults, StepsAndSends) {
  ArmResults arm{{"arm", "Arm", {}},
                 {run_of({{{"step", 0}, {"density", 1.0 / 64}},
                          {{"step", 320}, {"density", 1.0 / 64}},
                          {{"step", 640}, {"density", 1.0 / 64}}})}};
  EXPECT_EQ(call_value(arm, call("steps")), 640);
  EXPECT_DOUBLE_EQ(call_value(arm, call("sends")), 10);
}

TEST(ArmResults, ConvexFunctions) {
  ArmResults arm{{"arm", "Arm", {}},
                 {run_of({{{"epoch", 1.0}, {"suboptimality", 1e-3}, {"error_norm2", 2.0}},
                          {{"epoch", 2.0}, {"suboptimality", 1e-6}, {"error_norm2", 0.5}},
                          {{"epoch", 3.0}, {"suboptimality", 1e-5}, {"error_norm2", 0.1}}})}};
  EXPECT_EQ(call_value(arm, call("suboptimality")), 1e-5);
  EXPECT_EQ(call_value(arm, call("min_suboptimality")), 1e-6);
  EXPECT_EQ(call_value(arm, call("max_error")), 2.0);
  EXPECT_EQ(call_value(arm, call("epochs_to", {1e-4})), 2.0);
  EXPECT_EQ(call_value(arm, call("suboptimality_at", {2})), 1e-6);
}

TEST(ArmResults, ClockOnOtherNetworksFromTheTrafficTotals) {
  // 28 latencies and 1e9 critical bits: 1 Gbit/s (50 µs) adds 1.0014 s, 10 Gbit/s (20 µs) 0.10056
  // s.
  ArmResults arm{{"arm", "Arm", {}},
                 {run_of({{{"epoch", 1.0},
                           {"test_accuracy", 0.7},
                           {"compute_seconds", 1.0},
                           {"network_messages", 14.0},
                           {"network_critical_bits", 5e8}},
                          {{"epoch", 2.0},
                           {"test_accuracy", 0.85},
                           {"compute_seconds", 2.0},
                           {"network_messages", 28.0},
                           {"network_critical_bits", 1e9}}})}};
  EXPECT_NEAR(call_value(arm, call("seconds_on", {1})), 3.0014, 1e-12);
  EXPECT_NEAR(call_value(arm, call("seconds_on", {10})), 2.10056, 1e-12);
  EXPECT_NEAR(call_value(arm, call("time_to_on", {80, 10})), 2.10056, 1e-12);
  EXPECT_NEAR(call_value(arm, call("time_to_on", {60, 1})), 1.0 + 14 * 50e-6 + 0.5, 1e-12);
  EXPECT_EQ(call_value(arm, call("time_to_on", {90, 1})), std::numeric_limits<double>::infinity());
  try {
    validate_call(call("seconds_on", {0}));
    ADD_FAILURE() << "no error for 0 Gbit/s";
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "seconds_on(arm): the network's Gbit/s must be > 0");
  }
}

TEST(ArmResults, UnknownFunctionsAndArityAreErrors) {
  EXPECT_THROW(validate_call(call("acuracy")), InvalidInput);
  EXPECT_THROW(validate_call(call("time_to")), InvalidInput);
  EXPECT_THROW(validate_call(call("accuracy", {1})), InvalidInput);
  EXPECT_NO_THROW(validate_call(call("std_best_accuracy")));
  try {
    validate_call(call("time_to"));
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "time_to(arm): time_to takes the arm and 1 number(s)");
  }
  try {
    validate_call(call("collapsed", {1}));
    ADD_FAILURE() << "collapsed(arm, 1) was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "collapsed(arm): collapsed takes the arm only");
  }
}

}  // namespace
}  // namespace gradcomp
