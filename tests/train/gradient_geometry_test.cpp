// [BlockEF] §3.2's worked example (docs/testing.md §4.3 C9): equal blocks with |v_j| = c_b on block
// b and c_{b+1} = α·c_b. The whole-model sign keeps δ = (1+α)(1−α^B)/(B(1−α)(1+α^B)) of ‖v‖², the
// blockwise sign keeps everything (φ = 1); and φ of a general vector is the worst layer's ratio.
#include "gradcomp/train/gradient_geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace gradcomp {
namespace {

TEST(GradientGeometry, GeometricBlocksMatchS002WorkedExample) {
  const std::size_t blocks = 6, size = 50;
  for (const double alpha : {0.1, 0.5, 0.9}) {
    std::vector<std::vector<std::size_t>> shapes(blocks, {size});
    const Layout layout = Layout::from_shapes(shapes);
    std::vector<double> v;
    double c = 1.0;
    for (std::size_t b = 0; b < blocks; ++b, c *= alpha) {
      for (std::size_t j = 0; j < size; ++j) v.push_back(j % 3 == 0 ? -c : c);
    }
    const double B = blocks;
    const double expected =
        (1 + alpha) * (1 - std::pow(alpha, B)) / (B * (1 - alpha) * (1 + std::pow(alpha, B)));
    EXPECT_NEAR(sign_contraction(std::span<const double>(v)), expected, 1e-12) << alpha;
    EXPECT_NEAR(blockwise_sign_phi(std::span<const double>(v), layout), 1.0, 1e-12) << alpha;
  }
}

TEST(GradientGeometry, PhiIsTheWorstLayerAndAZeroLayerCountsOne) {
  const Layout layout = Layout::from_shapes({{2}, {4}, {3}});
  // Layer 0: (3, 4): 49/(2·25) = 0.98. Layer 1: (1, 0, 0, 0): 1/4. Layer 2: zero: 1.
  const std::vector<float> v = {3, -4, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(blockwise_sign_phi(std::span<const float>(v), layout), 0.25);
  // Whole model: ‖v‖₁ = 8, ‖v‖² = 26, d = 9.
  EXPECT_DOUBLE_EQ(sign_contraction(std::span<const float>(v)), 64.0 / (9 * 26));
  EXPECT_DOUBLE_EQ(sign_contraction(std::span<const float>(std::vector<float>(5, 0.0F))), 1.0);
}

}  // namespace
}  // namespace gradcomp
