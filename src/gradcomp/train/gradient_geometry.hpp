#pragma once
// The geometry of a gradient that decides how well sign compressors keep it ([BlockEF] §3.2, Fig.
// 1b): the blockwise scaled sign's contraction φ(v) = min_b ‖v_b‖₁²/(d_b‖v_b‖²) over the layers
// (docs/compressors.md §2.3.9; a zero layer counts 1, it contributes no error) against the
// whole-model scaled sign's ‖v‖₁²/(d‖v‖²). [BlockEF]'s claim: on real networks φ(v) ≫ the
// whole-model value.
#include <algorithm>
#include <cmath>
#include <span>

#include "gradcomp/core/layout.hpp"

namespace gradcomp {

// ‖v‖₁²/(d‖v‖²) of one piece; 1 for an all-zero piece.
template <class T>
double sign_contraction(std::span<const T> v) {
  double l1 = 0, l2 = 0;
  for (const T value : v) {
    const double x = static_cast<double>(value);
    l1 += std::fabs(x);
    l2 += x * x;
  }
  if (l2 == 0) return 1.0;
  return l1 * l1 / (static_cast<double>(v.size()) * l2);
}

// φ(v) with one block per layer of the layout.
template <class T>
double blockwise_sign_phi(std::span<const T> v, const Layout& layout) {
  double phi = 1.0;
  for (const Block& block : layout.blocks()) {
    if (block.size == 0) continue;
    phi = std::min(phi, sign_contraction(v.subspan(block.offset, block.size)));
  }
  return phi;
}

}  // namespace gradcomp
