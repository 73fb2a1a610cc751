#pragma once
// A classifier's run that collapsed without a NaN: its test accuracy fell to chance (a network
// whose units died predicts one class for every image) and stayed there. The trainer names it in
// summary.json and on the console; the reproductions report it in their tables.
#include <cstdint>
#include <optional>
#include <span>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

struct AccuracyAt {
  std::uint64_t step;
  double accuracy;  // fraction, NaN when not evaluated
};

struct Collapse {
  std::uint64_t step;  // the first of the evaluations at chance
  double accuracy;
};

// The accuracy of always answering the most frequent class of `test` (a constant predictor's
// best); NaN for regression or an empty set.
double chance_accuracy(const Dataset& test);

// Within this many points of chance counts as at chance (a network with a few live units left).
inline constexpr double kChanceMargin = 0.01;

// Collapsed: two evaluations in a row after step 0 at chance (≤ chance + kChanceMargin), either
// after an evaluation above chance (the run had learned and lost it) or as its last two (it ends
// there). An early plateau that the run leaves is not a collapse. nullopt when chance is NaN.
std::optional<Collapse> find_collapse(std::span<const AccuracyAt> curve, double chance);

}  // namespace gradcomp
