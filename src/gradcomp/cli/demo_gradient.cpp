#include "gradcomp/cli/demo_gradient.hpp"

#include <cmath>

#include "gradcomp/core/random.hpp"

namespace gradcomp::cli {

Layout demo_layout() {
  return Layout(
      {Block{"conv1.weight", 0, 800, {32, 1, 5, 5}}, Block{"conv1.bias", 800, 32, {32}},
       Block{"conv2.weight", 832, 51200, {64, 32, 5, 5}}, Block{"conv2.bias", 52032, 64, {64}},
       Block{"fc1.weight", 52096, 524288, {512, 1024}}, Block{"fc1.bias", 576384, 512, {512}},
       Block{"fc2.weight", 576896, 5120, {10, 512}}, Block{"fc2.bias", 582016, 10, {10}}});
}

std::vector<float> demo_gradient(const Layout& layout) {
  std::vector<float> x(layout.total_size());
  const double scales[] = {3e-2, 1e-2, 4e-3, 2e-3, 5e-4, 1e-3, 2e-2, 5e-2};
  for (std::size_t l = 0; l < layout.block_count(); ++l) {
    const Block& block = layout.blocks()[l];
    RandomStream stream(2026, Purpose::kTest, 0, static_cast<std::uint32_t>(l), 0);
    const double scale = scales[l % 8];
    for (std::size_t i = 0; i < block.size; ++i) {
      const double magnitude = -std::log(1.0 - stream.uniform());  // Laplace
      const double sign = (stream.next_u32() & 1U) != 0 ? -1.0 : 1.0;
      x[block.offset + i] = static_cast<float>(scale * sign * magnitude);
    }
  }
  return x;
}

}  // namespace gradcomp::cli
