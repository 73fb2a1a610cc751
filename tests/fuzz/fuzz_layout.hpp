#pragma once
// The layout every decoder fuzz target decodes with, shared with the seed-corpus generator so the
// seeds are messages the target's decoder accepts: layers of 30, 7, 0 and 11 elements (an empty
// layer among them).
#include "gradcomp/core/layout.hpp"

namespace gradcomp::fuzzing {

inline const Layout& fuzz_layout() {
  static const Layout layout = Layout::from_shapes({{6, 5}, {7}, {0}, {11}});
  return layout;
}

// A corpus entry's first byte says whether the target puts a valid header in front of the rest
// (bit 0 set) or decodes the rest as it is; seeds are whole messages, so they start with 0.
inline constexpr unsigned char kWholeMessage = 0;

}  // namespace gradcomp::fuzzing
