// A run that collapsed without a NaN (train/collapse.hpp): chance is the most frequent class's
// share of the test set; two evaluations in a row at chance after the run had learned, or as its
// last two, are a collapse; an early plateau the run leaves, a single dip and step 0 are not.
#include "gradcomp/train/collapse.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace gradcomp {
namespace {

Dataset labelled(std::vector<float> labels, std::size_t classes) {
  Dataset d;
  d.classes = classes;
  d.samples = labels.size();
  d.labels = std::move(labels);
  return d;
}

TEST(Collapse, ChanceIsTheLargestClassShare) {
  EXPECT_EQ(chance_accuracy(labelled({0, 1, 2, 3, 0, 1, 2, 3}, 4)), 0.25);
  EXPECT_EQ(chance_accuracy(labelled({2, 2, 2, 0, 1}, 3)), 0.6);
  EXPECT_TRUE(std::isnan(chance_accuracy(labelled({0.5F, 1.5F}, 0))));  // regression
  EXPECT_TRUE(std::isnan(chance_accuracy(labelled({}, 10))));
}

std::vector<AccuracyAt> curve(const std::vector<double>& accuracies) {
  std::vector<AccuracyAt> out;
  for (std::size_t k = 0; k < accuracies.size(); ++k) out.push_back({20 * k, accuracies[k]});
  return out;
}

TEST(Collapse, LearnedThenTwiceAtChanceCollapsedAtTheFirstOfThem) {
  // [DEF]'s EF on LeNet at r = 16: 10% → 35% → 10%, 10%, then a little life that does not count.
  const auto c = find_collapse(curve({0.10, 0.20, 0.35, 0.104, 0.10, 0.19}), 0.10);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->step, 60U);
  EXPECT_EQ(c->accuracy, 0.104);
}

TEST(Collapse, EndingAtChanceWithoutHavingLearnedIsACollapse) {
  const auto c = find_collapse(curve({0.10, 0.10, 0.10, 0.10}), 0.10);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->step, 40U);
}

TEST(Collapse, PlateausDipsAndStepZeroAreNot) {
  EXPECT_FALSE(find_collapse(curve({0.10, 0.10, 0.10, 0.45, 0.70}), 0.10));        // early plateau
  EXPECT_FALSE(find_collapse(curve({0.10, 0.50, 0.10, 0.60, 0.10, 0.70}), 0.10));  // dips
  EXPECT_FALSE(find_collapse(curve({0.10, 0.50, 0.70, 0.10}), 0.10));              // one at the end
  EXPECT_FALSE(find_collapse(curve({0.10, 0.10}), 0.10));             // step 0 is the initial model
  EXPECT_FALSE(find_collapse(curve({0.10, 0.50, 0.10, 0.10}), NAN));  // not a classifier
}

TEST(Collapse, WithinTheMarginOfChanceCountsAsChance) {
  EXPECT_TRUE(find_collapse(curve({0.1, 0.5, 0.1 + kChanceMargin, 0.1 + kChanceMargin}), 0.1));
  EXPECT_FALSE(find_collapse(curve({0.1, 0.5, 0.1 + 2 * kChanceMargin, 0.1}), 0.1));
  // Unevaluated (NaN) accuracies are not at chance.
  EXPECT_FALSE(find_collapse(curve({0.1, 0.5, NAN, NAN}), 0.1));
}

}  // namespace
}  // namespace gradcomp
