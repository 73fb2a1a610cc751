#pragma once
// Runs a test body once per instruction set: every target this build compiled the SIMD kernels
// for (Highway's dynamic dispatch) that this CPU can run, with the dispatch forced to it.
// Only targets.h: a file that includes hwy/foreach_target.h must not include highway.h first.
#include <hwy/targets.h>

#include <cstdint>
#include <vector>

namespace gradcomp::testing {

// The targets in dispatch order (best first); the last is the build's baseline.
inline std::vector<std::int64_t> every_target() {
  return hwy::SupportedAndGeneratedTargets();
}

// Forces HWY_DYNAMIC_DISPATCH (and the compressors built while it holds) to `target`.
class ForcedTarget {
 public:
  explicit ForcedTarget(std::int64_t target) {
    hwy::SetSupportedTargetsForTest(target);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  }
  ~ForcedTarget() {
    hwy::SetSupportedTargetsForTest(0);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  }
  ForcedTarget(const ForcedTarget&) = delete;
  ForcedTarget& operator=(const ForcedTarget&) = delete;
};

}  // namespace gradcomp::testing
