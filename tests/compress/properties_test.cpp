// The compressor properties of docs/testing.md §4.3 (C1–C11, C14), checked through the real
// encode/decode path in double precision with fp64 values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>

#include "../test_support.hpp"
#include "gradcomp/compress/rbgs.hpp"
#include "gradcomp/compress/registry.hpp"

namespace gradcomp {
namespace {

using testing::gaussian_vector;
using testing::squared_distance;
using testing::squared_norm;

std::vector<double> apply(const std::string& spec, const std::vector<double>& x,
                          const Layout& layout, const StepContext& context = {}) {
  auto compressor = make_compressor(spec);
  std::vector<double> out(x.size());
  compressor->decode(compressor->encode(std::span<const double>(x), layout, context), layout,
                     context, std::span<double>(out));
  return out;
}

double sum_abs(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += std::fabs(x);
  return s;
}

// C1: for a fixed start, C_s(a) + C_s(b) = C_s(a + b); the payloads add too.
TEST(Rbgs, C1LinearUnderTheSharedSeed) {
  const Layout layout = Layout::from_shapes({{50}, {7, 3}, {1}});
  const auto a = gaussian_vector<double>(layout.total_size(), 1);
  const auto b = gaussian_vector<double>(layout.total_size(), 2);
  std::vector<double> sum(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) sum[i] = a[i] + b[i];
  for (std::uint64_t step = 0; step < 20; ++step) {
    const StepContext worker0{9, step, 0}, worker1{9, step, 1};  // different workers, same step
    auto ca = apply("rbgs:ratio=5", a, layout, worker0);
    const auto cb = apply("rbgs:ratio=5", b, layout, worker1);
    const auto cs = apply("rbgs:ratio=5", sum, layout, worker0);
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(ca[i] + cb[i], cs[i]);
  }
}

// C2: averaging over every start index, (1/d)Σ_s C_s(x) = (k/d)x and
// (1/d)Σ_s ‖C_s(x) − x‖² = (1 − k/d)‖x‖² exactly (wrap-around makes every coordinate equally
// likely).
TEST(Rbgs, C2ExactExpectationOverAllStarts) {
  for (const std::size_t d : {1U, 5U, 64U, 97U}) {
    for (const double ratio : {1.0, 3.0, 8.0, 200.0}) {
      const auto x = gaussian_vector<double>(d, d);
      const std::size_t k = rbgs_block_size(d, ratio);
      std::vector<double> mean(d, 0.0);
      double mean_error = 0;
      for (std::size_t s = 0; s < d; ++s) {
        std::vector<double> c(d, 0.0);
        for (std::size_t j = 0; j < k; ++j) c[rbgs_position(s, j, d)] = x[rbgs_position(s, j, d)];
        for (std::size_t i = 0; i < d; ++i) mean[i] += c[i] / static_cast<double>(d);
        mean_error += squared_distance<double>(c, x) / static_cast<double>(d);
      }
      const double fraction = static_cast<double>(k) / static_cast<double>(d);
      for (std::size_t i = 0; i < d; ++i) EXPECT_NEAR(mean[i], fraction * x[i], 1e-12);
      EXPECT_NEAR(mean_error, (1 - fraction) * squared_norm<double>(x),
                  1e-12 * squared_norm<double>(x));
    }
  }
}

// The compressor keeps exactly the block the shared start names, and the starts are uniform.
TEST(Rbgs, CompressorKeepsTheSharedBlockAndStartsAreUniform) {
  const Layout layout = Layout::flat(10);
  const auto x = gaussian_vector<double>(10, 3);
  std::vector<double> counts(10, 0);
  const int steps = 20000;
  for (std::uint64_t step = 0; step < steps; ++step) {
    const StepContext context{4, step, 0};
    const std::size_t start = rbgs_start(context, Segment{0, 10, 0});
    counts[start] += 1;
    if (step < 50) {
      const auto c = apply("rbgs:ratio=3.3", x, layout, context);  // k = 3
      for (std::size_t i = 0; i < 10; ++i) {
        const std::size_t offset = (i + 10 - start) % 10;
        EXPECT_EQ(c[i], offset < 3 ? x[i] : 0.0);
      }
    }
  }
  double chi2 = 0;
  for (double c : counts) chi2 += (c - steps / 10.0) * (c - steps / 10.0) / (steps / 10.0);
  EXPECT_LT(chi2, 42.0);  // χ²₉, P > 42 ≈ 3e-6
}

// Consecutive starts are independent: a coordinate then waits a geometric number of steps (mean
// d/k) between sends, which is what error feedback's staleness under RBGS rests on. The pairs
// (s_t, s_{t+1}) are uniform over the 10 × 10 grid, and so are the pairs of two segments' starts at
// one step.
TEST(Rbgs, StartsOfConsecutiveStepsAndOfSegmentsAreIndependent) {
  std::vector<double> consecutive(100, 0), segments(100, 0);
  const int steps = 50000;
  std::size_t previous = 0;
  for (std::uint64_t step = 0; step < steps; ++step) {
    const StepContext context{4, step, 0};
    const std::size_t first = rbgs_start(context, Segment{0, 10, 0});
    const std::size_t second = rbgs_start(context, Segment{10, 10, 1});
    if (step > 0) consecutive[10 * previous + first] += 1;
    segments[10 * first + second] += 1;
    previous = first;
  }
  const auto chi2 = [](const std::vector<double>& counts, double total) {
    double sum = 0;
    for (const double c : counts) sum += (c - total / 100) * (c - total / 100) / (total / 100);
    return sum;
  };
  EXPECT_LT(chi2(consecutive, steps - 1), 160.0);  // χ²₉₉, P > 160 ≈ 6e-5
  EXPECT_LT(chi2(segments, steps), 160.0);
}

// C3: ‖x − C_λ(x)‖² ≤ dλ² and ‖x − C_λ(x)‖_∞ < λ; kept coordinates are exact.
TEST(Threshold, C3AbsoluteErrorBounds) {
  const auto x = gaussian_vector<double>(5000, 5);
  for (const double lambda : {0.0, 0.1, 1.0, 2.5, 10.0}) {
    const auto c = apply(fmt::format("threshold:lambda={}", lambda), x, Layout::flat(x.size()));
    double max_error = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      max_error = std::max(max_error, std::fabs(x[i] - c[i]));
      if (std::fabs(x[i]) >= lambda)
        EXPECT_EQ(c[i], x[i]);
      else
        EXPECT_EQ(c[i], 0.0);
    }
    if (lambda > 0) {
      EXPECT_LT(max_error, lambda);
    }
    EXPECT_LE(squared_distance<double>(x, c), 5000 * lambda * lambda);
  }
}

// C4: layer-wise thresholding equals whole-model thresholding.
TEST(Threshold, C4LayerWiseEqualsWholeModel) {
  const Layout layout = Layout::from_shapes({{30}, {0}, {17, 2}, {1}});
  const auto x = gaussian_vector<double>(layout.total_size(), 6);
  const auto whole = apply("threshold:lambda=0.7", x, layout);
  std::vector<double> concatenated;
  for (const Block& b : layout.blocks()) {
    std::vector<double> part(x.begin() + b.offset, x.begin() + b.offset + b.size);
    const auto c = apply("threshold:lambda=0.7", part, Layout::flat(b.size));
    concatenated.insert(concatenated.end(), c.begin(), c.end());
  }
  EXPECT_EQ(whole, concatenated);
}

// C5: ‖p − Top_k(p)‖² = min over all supports of size k of ‖p − q‖² (brute force),
// and ≤ (1 − k/d)‖p‖².
TEST(TopK, C5OptimalAmongAllSupports) {
  const std::size_t d = 10;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const auto p = gaussian_vector<double>(d, 100 + seed);
    for (std::size_t k = 1; k <= d; ++k) {
      const auto c = apply(fmt::format("topk:k={}", k), p, Layout::flat(d));
      const double error = squared_distance<double>(p, c);
      double best = INFINITY;
      for (unsigned mask = 0; mask < (1U << d); ++mask) {
        if (static_cast<std::size_t>(std::popcount(mask)) != k) continue;
        double e = 0;
        for (std::size_t i = 0; i < d; ++i) e += ((mask >> i) & 1U) ? 0.0 : p[i] * p[i];
        best = std::min(best, e);
      }
      EXPECT_NEAR(error, best, 1e-14);
      EXPECT_LE(error, (1 - static_cast<double>(k) / d) * squared_norm<double>(p) + 1e-15);
    }
  }
}

// C6 ([HardThreshold] Lemma 3): for a fixed sequence and a total budget K, the hard threshold
// between the K-th and (K+1)-th largest magnitudes beats every per-step Top-k_t allocation with Σ
// k_t ≤ K.
TEST(Threshold, C6OptimalForATotalBudget) {
  const std::size_t steps = 3, d = 4;
  std::vector<std::vector<double>> a;
  for (std::size_t t = 0; t < steps; ++t) a.push_back(gaussian_vector<double>(d, 200 + t));
  std::vector<double> magnitudes;
  for (const auto& v : a)
    for (double x : v) magnitudes.push_back(std::fabs(x));
  std::sort(magnitudes.rbegin(), magnitudes.rend());
  for (std::size_t budget = 1; budget < steps * d; ++budget) {
    const double lambda = (magnitudes[budget - 1] + magnitudes[budget]) / 2;
    double threshold_error = 0;
    std::size_t used = 0;
    for (const auto& v : a) {
      const auto c = apply(fmt::format("threshold:lambda={:.17g}", lambda), v, Layout::flat(d));
      threshold_error += squared_distance<double>(v, c);
      for (double x : c) used += x != 0 ? 1 : 0;
    }
    EXPECT_EQ(used, budget);
    for (std::size_t k0 = 0; k0 <= d; ++k0) {
      for (std::size_t k1 = 0; k1 <= d; ++k1) {
        for (std::size_t k2 = 0; k2 <= d; ++k2) {
          if (k0 + k1 + k2 > budget) continue;
          double error = 0;
          const std::size_t ks[] = {k0, k1, k2};
          for (std::size_t t = 0; t < steps; ++t) {
            if (ks[t] == 0) {
              error += squared_norm<double>(a[t]);
              continue;
            }
            const auto c = apply(fmt::format("topk:k={}", ks[t]), a[t], Layout::flat(d));
            error += squared_distance<double>(a[t], c);
          }
          EXPECT_LE(threshold_error, error + 1e-14);
        }
      }
    }
  }
}

// C7: ‖C(v) − v‖² = ‖v‖² − ‖v‖₁²/d for the scaled sign.
TEST(ScaledSign, C7ExactError) {
  for (const std::size_t d : {1U, 2U, 9U, 1000U}) {
    const auto v = gaussian_vector<double>(d, d + 1);
    const auto c = apply("scaledsign", v, Layout::flat(d));
    const double l1 = sum_abs(v);
    EXPECT_NEAR(squared_distance<double>(v, c), squared_norm<double>(v) - l1 * l1 / d,
                1e-12 * squared_norm<double>(v));
    for (std::size_t i = 0; i < d; ++i) EXPECT_NEAR(c[i], std::copysign(l1 / d, v[i]), 1e-14);
  }
}

// C8: blockwise error Σ_b(‖v_b‖² − ‖v_b‖₁²/d_b) ≤ (1 − φ(v))‖v‖², φ(v) ≥ min_b 1/d_b.
TEST(BlockSign, C8ExactErrorAndPhiBound) {
  const Layout layout = Layout::from_shapes({{3, 3}, {1}, {40}, {0}, {12}});
  const auto v = gaussian_vector<double>(layout.total_size(), 8);
  const auto c = apply("blocksign", v, layout);
  double expected = 0, phi = 1;
  std::size_t largest = 0;
  for (const Block& b : layout.blocks()) {
    if (b.size == 0) continue;
    std::span<const double> part(v.data() + b.offset, b.size);
    const double l1 = sum_abs(part), l2 = squared_norm(part);
    expected += l2 - l1 * l1 / b.size;
    phi = std::min(phi, l1 * l1 / (b.size * l2));
    largest = std::max(largest, b.size);
  }
  const double error = squared_distance<double>(v, c);
  EXPECT_NEAR(error, expected, 1e-12 * squared_norm<double>(v));
  EXPECT_LE(error, (1 - phi) * squared_norm<double>(v) + 1e-12);
  EXPECT_GE(phi, 1.0 / largest);
  // Fixed-size blocks: the same identity over blocks of 8.
  const auto fixed = apply("blocksign:block=8", v, layout);
  double expected_fixed = 0;
  for (std::size_t start = 0; start < v.size(); start += 8) {
    std::span<const double> part(v.data() + start, std::min<std::size_t>(8, v.size() - start));
    const double l1 = sum_abs(part);
    expected_fixed += squared_norm(part) - l1 * l1 / part.size();
  }
  EXPECT_NEAR(squared_distance<double>(v, fixed), expected_fixed, 1e-12 * squared_norm<double>(v));
}

// The decode flips the sign bit of each block's scale (compress/sign.cpp): every coordinate of a
// block gets the same magnitude, negative exactly where the input is (a zero decodes to +scale).
// Blocks that start and end inside a byte of the sign bits (sizes 9, 1, 40, 0, 12) exercise the
// head, whole-byte and tail loops, in float and in double.
template <class T>
void expect_one_magnitude_per_block_with_the_inputs_signs() {
  const Layout layout = Layout::from_shapes({{3, 3}, {1}, {40}, {0}, {12}});
  const auto normal = gaussian_vector<double>(layout.total_size(), 9);
  std::vector<T> v(normal.begin(), normal.end());
  v[4] = T{0};
  auto compressor = make_compressor("blocksign");
  std::vector<T> out(v.size(), T{0});
  compressor->decode(compressor->encode(std::span<const T>(v), layout, {}), layout, {},
                     std::span<T>(out));
  for (const Block& b : layout.blocks()) {
    if (b.size == 0) continue;
    const T magnitude = std::fabs(out[b.offset]);
    EXPECT_GT(magnitude, T{0}) << b.name;
    for (std::size_t i = b.offset; i < b.offset + b.size; ++i) {
      EXPECT_EQ(std::fabs(out[i]), magnitude) << "coordinate " << i;
      EXPECT_EQ(std::signbit(out[i]), v[i] < T{0}) << "coordinate " << i;
    }
  }
}

TEST(BlockSign, DecodeGivesEachBlockOneMagnitudeAndTheInputsSigns) {
  expect_one_magnitude_per_block_with_the_inputs_signs<float>();
  expect_one_magnitude_per_block_with_the_inputs_signs<double>();
}

// C9 ([BlockEF] §3.2): equal blocks with |v_j| = c_b, c_b/c_{b+1} = α: the whole-vector scaled sign
// has δ = (1+α)(1−α^B)/(B(1−α)(1+α^B)), the blockwise one φ = 1 (no error).
TEST(BlockSign, C9GeometricBlocks) {
  const std::size_t blocks = 6, size = 5;
  for (const double alpha : {0.1, 0.5, 0.9}) {
    std::vector<double> v;
    std::vector<std::vector<std::size_t>> shapes;
    for (std::size_t b = 0; b < blocks; ++b) {
      shapes.push_back({size});
      for (std::size_t j = 0; j < size; ++j) v.push_back((j % 2 ? -1 : 1) * std::pow(alpha, b));
    }
    const Layout layout = Layout::from_shapes(shapes);
    const double norm = squared_norm<double>(v);
    const double delta = 1 - squared_distance<double>(v, apply("scaledsign", v, layout)) / norm;
    const double aB = std::pow(alpha, blocks);
    EXPECT_NEAR(delta, (1 + alpha) * (1 - aB) / (blocks * (1 - alpha) * (1 + aB)), 1e-12);
    EXPECT_NEAR(squared_distance<double>(v, apply("blocksign", v, layout)), 0.0, 1e-24);
  }
}

// C14: the sketch is an orthogonal projector: S(S(x)) = S(x), ‖Sx‖² + ‖x − Sx‖² = ‖x‖², linear.
TEST(Sketch, C14ProjectorIdempotentAndLinear) {
  for (const char* spec :
       {"sketch:p=7,kind=gaussian", "sketch:p=7,kind=hash", "sketch:ratio=0.3,kind=hash"}) {
    const Layout layout = Layout::flat(40);
    const StepContext context{1, 2, 0};
    const auto x = gaussian_vector<double>(40, 10);
    const auto y = gaussian_vector<double>(40, 11);
    const auto sx = apply(spec, x, layout, context);
    const auto ssx = apply(spec, sx, layout, context);
    for (std::size_t i = 0; i < 40; ++i) EXPECT_NEAR(ssx[i], sx[i], 1e-12) << spec;
    EXPECT_NEAR(squared_norm<double>(sx) + squared_distance<double>(x, sx), squared_norm<double>(x),
                1e-12 * squared_norm<double>(x));
    std::vector<double> sum(40);
    for (std::size_t i = 0; i < 40; ++i) sum[i] = x[i] + y[i];
    const auto sy = apply(spec, y, layout, StepContext{1, 2, 5});  // another worker, same step
    const auto ssum = apply(spec, sum, layout, context);
    for (std::size_t i = 0; i < 40; ++i) EXPECT_NEAR(sx[i] + sy[i], ssum[i], 1e-12) << spec;
  }
}

// One instance decodes on several threads at once (the exchange's decode threads, the Python
// module without the GIL): each thread decodes messages of alternating steps, so every decode
// needs another V than the thread's previous one; every result equals a sequential decode by a
// fresh instance.
TEST(Sketch, DecodesOnSeveralThreadsAtOnce) {
  for (const char* spec : {"sketch:p=9,kind=gaussian", "sketch:p=9,kind=hash"}) {
    const Layout layout = Layout::flat(60);
    const auto x = gaussian_vector<double>(60, 14);
    constexpr std::uint64_t kSteps = 6;
    auto encoder = make_compressor(spec);
    std::vector<Message> messages;
    std::vector<std::vector<double>> expected;
    for (std::uint64_t step = 0; step < kSteps; ++step) {
      const StepContext context{3, step, 0};
      messages.push_back(encoder->encode(std::span<const double>(x), layout, context));
      std::vector<double> out(60);
      make_compressor(spec)->decode(messages.back(), layout, context, std::span<double>(out));
      expected.push_back(out);
    }
    const auto shared = make_compressor(spec);
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::vector<double> out(60);
        for (std::uint64_t round = 0; round < 50; ++round) {
          const std::uint64_t step = (t + round) % kSteps;
          shared->decode(messages[step], layout, {3, step, 0}, std::span<double>(out));
          mismatches[t] += static_cast<int>(out != expected[step]);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0)) << spec;
  }
}

// Shared-seed Random-k: the same indices on every worker (linear), other indices at other steps.
TEST(RandK, SharedIndicesAcrossWorkersPrivateOtherwise) {
  const Layout layout = Layout::flat(1000);
  const auto x = gaussian_vector<double>(1000, 12);
  auto support = [&](const std::string& spec, StepContext context) {
    std::vector<bool> kept(1000);
    const auto c = apply(spec, x, layout, context);
    for (std::size_t i = 0; i < 1000; ++i) kept[i] = c[i] != 0;
    return kept;
  };
  EXPECT_EQ(support("randk:k=50", {1, 3, 0}), support("randk:k=50", {1, 3, 7}));
  EXPECT_NE(support("randk:k=50", {1, 3, 0}), support("randk:k=50", {1, 4, 0}));
  EXPECT_NE(support("randk:k=50,shared=false", {1, 3, 0}),
            support("randk:k=50,shared=false", {1, 3, 7}));
}

// QSGD (C10): every coordinate lands on one of its two neighbouring levels, with the sign of v.
TEST(Qsgd, C10QuantizesToTheTwoNeighbouringLevels) {
  const auto v = gaussian_vector<double>(300, 13);
  const double norm = std::sqrt(squared_norm<double>(v));
  const double s = 4;
  for (std::uint64_t step = 0; step < 20; ++step) {
    const auto q = apply("qsgd:levels=4", v, Layout::flat(300), {1, step, 0});
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double r = s * std::fabs(v[i]) / norm;
      const double level = std::fabs(q[i]) * s / norm;
      EXPECT_NEAR(level, std::round(level), 1e-9);
      EXPECT_TRUE(std::round(level) == std::floor(r) || std::round(level) == std::floor(r) + 1);
      if (q[i] != 0) {
        EXPECT_EQ(std::signbit(q[i]), std::signbit(v[i]));
      }
    }
  }
}

// TernGrad (C11): values in {−‖v‖_∞, 0, ‖v‖_∞} with the sign of v; the largest one always kept.
TEST(TernGrad, C11TernarySupport) {
  const auto v = gaussian_vector<double>(200, 14);
  double scale = 0;
  std::size_t argmax = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (std::fabs(v[i]) > scale) scale = std::fabs(v[i]), argmax = i;
  }
  const auto q = apply("terngrad", v, Layout::flat(200), {2, 0, 0});
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_TRUE(q[i] == 0 || q[i] == std::copysign(scale, v[i])) << i;
  }
  EXPECT_EQ(q[argmax], v[argmax]);
}

// fp16 rounding (the fp16 compressor, or values=fp16 on identity and scale) is deterministic and
// lossy: biased, not exact, and its declared δ holds on data (`gradcomp list` once called it
// unbiased and exact).
TEST(Fp16, DeclaresItselfBiasedWithADeltaThatHolds) {
  const Layout layout = Layout::flat(1000);
  const auto x = testing::gaussian_vector<float>(1000, 5);
  for (const std::string spec : {"fp16", "identity:values=fp16", "scale:delta=0.5,values=fp16"}) {
    auto c = make_compressor(spec);
    EXPECT_FALSE(c->properties().unbiased) << spec;
    const double delta = *c->constants(layout).delta;
    std::vector<float> y(x.size());
    c->decode(c->encode(std::span<const float>(x), layout, {}), layout, {}, std::span<float>(y));
    double error = 0, norm = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      error += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
      norm += double(x[i]) * x[i];
    }
    EXPECT_GT(error, 0.0) << spec << ": fp16 rounding is not exact";
    EXPECT_LE(error, (1 - delta) * norm) << spec;
  }
  EXPECT_DOUBLE_EQ(*make_compressor("identity:values=fp16")->constants(layout).delta,
                   1 - std::ldexp(1.0, -22));
  EXPECT_DOUBLE_EQ(*make_compressor("scale:delta=0.5,values=fp16")->constants(layout).delta,
                   0.5 * (1 - std::ldexp(1.0, -11)));
  EXPECT_TRUE(make_compressor("identity")->properties().unbiased);
  EXPECT_DOUBLE_EQ(*make_compressor("identity")->constants(layout).delta, 1.0);
}

// The constants each compressor declares (docs/compressors.md §2.2).
TEST(Constants, MatchTheReference) {
  const Layout layout = Layout::from_shapes({{100}, {50}});
  EXPECT_DOUBLE_EQ(*make_compressor("topk:k=15")->constants(layout).delta, 0.1);
  EXPECT_DOUBLE_EQ(*make_compressor("topk:ratio=0.1,scope=layer")->constants(layout).delta, 0.1);
  EXPECT_DOUBLE_EQ(*make_compressor("rbgs:ratio=10")->constants(layout).delta, 0.1);
  EXPECT_DOUBLE_EQ(*make_compressor("randk:k=30,unbiased=true")->constants(layout).omega, 4.0);
  EXPECT_DOUBLE_EQ(*make_compressor("threshold:lambda=0.5")->constants(layout).upsilon2, 37.5);
  EXPECT_DOUBLE_EQ(*make_compressor("qsgd:levels=2")->constants(layout).omega,
                   std::min(150.0 / 4, std::sqrt(150.0) / 2));
  EXPECT_DOUBLE_EQ(*make_compressor("blocksign")->constants(layout).delta, 0.01);
  EXPECT_DOUBLE_EQ(*make_compressor("round:eps=0.1,mode=nearest")->constants(layout).upsilon2,
                   150 * 0.01 / 4);
  EXPECT_FALSE(make_compressor("sign")->constants(layout).delta.has_value());
}

}  // namespace
}  // namespace gradcomp

namespace gradcomp {
namespace {

// PowerSGD: a rank-r matrix is recovered exactly by one power-iteration step, and with the warm
// start (the worker's Q carried between steps) the error on a fixed matrix never grows: subspace
// iteration converging to the top-r subspace.
TEST(PowerSgd, RecoversLowRankAndWarmStartConverges) {
  const std::size_t rows = 30, cols = 20;
  const Layout layout = Layout::from_shapes({{rows, cols}, {7}});
  const auto a = gaussian_vector<double>(rows * 2, 40);
  const auto b = gaussian_vector<double>(cols * 2, 41);
  std::vector<double> low_rank(layout.total_size(), 0.0);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      low_rank[i * cols + j] = a[2 * i] * b[2 * j] + a[2 * i + 1] * b[2 * j + 1];
    }
  }
  for (std::size_t i = 0; i < 7; ++i) low_rank[rows * cols + i] = 0.5 * i;  // sent as is
  auto compressor = make_compressor("powersgd:rank=2");
  std::vector<double> out(low_rank.size());
  compressor->decode(compressor->encode(std::span<const double>(low_rank), layout, {1, 0, 0}),
                     layout, {1, 0, 0}, std::span<double>(out));
  EXPECT_LT(squared_distance<double>(out, low_rank), 1e-20 * squared_norm<double>(low_rank));

  const auto full = gaussian_vector<double>(layout.total_size(), 42);
  auto warm = make_compressor("powersgd:rank=2");
  double previous = INFINITY;
  for (std::uint64_t step = 0; step < 8; ++step) {
    warm->decode(warm->encode(std::span<const double>(full), layout, {1, step, 0}), layout,
                 {1, step, 0}, std::span<double>(out));
    const double error = squared_distance<double>(out, full);
    EXPECT_LE(error, previous * (1 + 1e-12)) << "step " << step;
    EXPECT_LT(error, squared_norm<double>(full));
    previous = error;
  }
}

// A compressor moved to a layout with as many layers but other matrix shapes starts those layers
// afresh: its message equals a new compressor's (its Q, sized for the old shape, was reused and
// read out of bounds).
TEST(PowerSgd, ALayerOfAnotherShapeStartsAfresh) {
  const Layout before = Layout::from_shapes({{6, 5}, {7}});
  const Layout after = Layout::from_shapes({{4, 12}, {7}});
  const auto x = gaussian_vector<float>(after.total_size(), 43);
  auto moved = make_compressor("powersgd:rank=2");
  (void)moved->encode(std::span<const float>(gaussian_vector<float>(before.total_size(), 44)),
                      before, {1, 0, 0});
  const Message from_moved = moved->encode(std::span<const float>(x), after, {1, 0, 0});
  const Message from_new =
      make_compressor("powersgd:rank=2")->encode(std::span<const float>(x), after, {1, 0, 0});
  EXPECT_EQ(from_moved.bytes, from_new.bytes);
}

}  // namespace
}  // namespace gradcomp
