#pragma once
// The built-in demo vector of `gradcomp inspect --demo`: a gradient-like vector for a small CNN
// layout (conv, fc and bias layers), heavy-tailed (Laplace) with a different scale per layer, as
// real gradients are. Deterministic: the same on every machine.
#include <vector>

#include "gradcomp/core/layout.hpp"

namespace gradcomp::cli {

Layout demo_layout();
std::vector<float> demo_gradient(const Layout& layout);

}  // namespace gradcomp::cli
