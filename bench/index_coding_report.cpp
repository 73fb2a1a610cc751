// Bits per index of the two index codes (fixed ⌈log₂ d⌉ and Rice-coded gaps) for the densities
// that matter, on random supports (Random-k) and on Top-k / hard-threshold supports of a
// heavy-tailed gradient whose layers differ in scale (clustered supports). Prints a Markdown table
// for docs/wire-format.md.   usage: index_coding_report [d]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include "gradcomp/compress/topk_select.hpp"
#include "gradcomp/core/index_coding.hpp"
#include "gradcomp/core/random.hpp"

namespace {

using gradcomp::IndexChoice;

std::vector<std::uint32_t> random_support(std::size_t d, std::size_t k) {
  gradcomp::RandomStream stream(5, gradcomp::Purpose::kTest, k, 0, 0);
  std::vector<bool> taken(d);
  std::vector<std::uint32_t> out;
  while (out.size() < k) {
    const auto i = static_cast<std::uint32_t>(stream.below(d));
    if (!taken[i]) taken[i] = true, out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Laplace values whose scale changes every 4096 elements by up to 100×, like layers of a network.
std::vector<float> layered_gradient(std::size_t d) {
  gradcomp::RandomStream stream(6, gradcomp::Purpose::kTest, 0, 0, 0);
  std::vector<float> x(d);
  double scale = 1;
  for (std::size_t i = 0; i < d; ++i) {
    if (i % 4096 == 0) scale = std::pow(10.0, 2 * stream.uniform());
    const double m = -std::log(1 - stream.uniform());
    x[i] = static_cast<float>(scale * ((stream.next_u32() & 1U) ? -m : m));
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t d = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const auto gradient = layered_gradient(d);
  fmt::print("d = {}; bits per index (lower is better); fixed = {} bits\n\n", d,
             gradcomp::bits_for_index(d));
  fmt::print("| density | random support: rice | Top-k support: rice | auto picks |\n");
  fmt::print("|---|---|---|---|\n");
  for (const double density : {0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5}) {
    const auto k = static_cast<std::size_t>(density * static_cast<double>(d));
    const auto random = random_support(d, k);
    std::vector<std::uint32_t> top;
    if (!gradcomp::select_top_k(std::span<const float>(gradient), k, 1, top)) return 1;
    const auto r = gradcomp::plan_indices(random, d, IndexChoice::kRice);
    const auto t = gradcomp::plan_indices(top, d, IndexChoice::kRice);
    const auto a = gradcomp::plan_indices(top, d, IndexChoice::kAuto);
    fmt::print("| {:g}% | {:.2f} | {:.2f} | {} |\n", 100 * density, static_cast<double>(r.bits) / k,
               static_cast<double>(t.bits) / k, a.rice ? "rice" : "fixed");
  }
  return 0;
}
