#include "gradcomp/train/collapse.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gradcomp {

double chance_accuracy(const Dataset& test) {
  if (test.classes == 0 || test.samples == 0) return NAN;
  std::vector<std::size_t> counts(test.classes, 0);
  for (const float label : test.labels) ++counts.at(static_cast<std::size_t>(label));
  const std::size_t largest = *std::max_element(counts.begin(), counts.end());
  return static_cast<double>(largest) / static_cast<double>(test.samples);
}

std::optional<Collapse> find_collapse(std::span<const AccuracyAt> curve, double chance) {
  if (!std::isfinite(chance)) return std::nullopt;
  const auto at_chance = [&](const AccuracyAt& e) {
    return e.step > 0 && std::isfinite(e.accuracy) && e.accuracy <= chance + kChanceMargin;
  };
  bool learned = false;
  for (std::size_t k = 0; k + 1 < curve.size(); ++k) {
    const bool pair = at_chance(curve[k]) && at_chance(curve[k + 1]);
    const bool last_two = k + 2 == curve.size();
    if (pair && (learned || last_two)) return Collapse{curve[k].step, curve[k].accuracy};
    if (std::isfinite(curve[k].accuracy) && curve[k].accuracy > chance + kChanceMargin) {
      learned = true;
    }
  }
  return std::nullopt;
}

}  // namespace gradcomp
