// Unbiasedness and exact second moments of the random compressors (docs/testing.md §4.3 C10, C11,
// C16) by Monte Carlo, with tolerances derived from each coordinate's exact two-point law: a
// sample mean over N draws is within 5.5 standard errors of its expectation (a false alarm has
// probability < 1e-6 per test).
#include <gtest/gtest.h>

#include <cmath>

#include "../test_support.hpp"
#include "gradcomp/compress/registry.hpp"

namespace gradcomp {
namespace {

using testing::gaussian_vector;
using testing::squared_norm;

constexpr double kSigmas = 5.5;

// Two-point law of one coordinate: value a with probability 1 − p, b with probability p.
struct TwoPoint {
  double a, b, p;
  [[nodiscard]] double mean() const { return a + p * (b - a); }
  [[nodiscard]] double variance() const { return p * (1 - p) * (b - a) * (b - a); }
  [[nodiscard]] double square_mean() const { return (1 - p) * a * a + p * b * b; }
  [[nodiscard]] double square_variance() const {
    return p * (1 - p) * (b * b - a * a) * (b * b - a * a);
  }
};

struct Draws {
  std::vector<double> mean;  // per coordinate
  std::vector<double> squared_norms;
};

Draws draw(const std::string& spec, const std::vector<double>& x, int samples) {
  const Layout layout = Layout::flat(x.size());
  Draws result{std::vector<double>(x.size(), 0.0), {}};
  auto compressor = make_compressor(spec);
  std::vector<double> out(x.size());
  for (int t = 0; t < samples; ++t) {
    const StepContext context{77, static_cast<std::uint64_t>(t), 3};
    compressor->decode(compressor->encode(std::span<const double>(x), layout, context), layout,
                       context, std::span<double>(out));
    for (std::size_t i = 0; i < x.size(); ++i) result.mean[i] += out[i] / samples;
    result.squared_norms.push_back(squared_norm<double>(out));
  }
  return result;
}

void expect_law(const std::string& spec, const std::vector<double>& x,
                const std::vector<TwoPoint>& law, int samples) {
  const Draws d = draw(spec, x, samples);
  double expected_square = 0, square_variance = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(law[i].mean(), x[i], 1e-12) << "the law itself must be unbiased";
    EXPECT_NEAR(d.mean[i], x[i], kSigmas * std::sqrt(law[i].variance() / samples) + 1e-12)
        << spec << " coordinate " << i;
    expected_square += law[i].square_mean();
    square_variance += law[i].square_variance();
  }
  double mean_square = 0;
  for (double s : d.squared_norms) mean_square += s / samples;
  EXPECT_NEAR(mean_square, expected_square, kSigmas * std::sqrt(square_variance / samples) + 1e-9)
      << spec;
}

// Per-coordinate means of the decoded vector over `samples` steps, for float input.
std::vector<double> float_means(const std::string& spec, const std::vector<float>& v, int samples) {
  const Layout layout = Layout::flat(v.size());
  auto compressor = make_compressor(spec);
  std::vector<double> mean(v.size(), 0.0);
  std::vector<float> out(v.size());
  for (int t = 0; t < samples; ++t) {
    const StepContext context{8, static_cast<std::uint64_t>(t), 1};
    compressor->decode(compressor->encode(std::span<const float>(v), layout, context), layout,
                       context, std::span<float>(out));
    for (std::size_t i = 0; i < v.size(); ++i) mean[i] += out[i] / static_cast<double>(samples);
  }
  return mean;
}

// C10: QSGD is unbiased and E‖Q_s(v)‖² = (‖v‖²/s²) Σ_j (l_j² + (2l_j + 1)(r_j − l_j)).
TEST(Unbiased, QsgdMeanAndExactSecondMoment) {
  const auto v = gaussian_vector<double>(40, 21);
  const double s = 3, norm = std::sqrt(squared_norm<double>(v));
  std::vector<TwoPoint> law;
  double formula = 0;
  for (const double x : v) {
    const double r = s * std::fabs(x) / norm;
    const double l = std::min(std::floor(r), s - 1);
    law.push_back({std::copysign(norm * l / s, x), std::copysign(norm * (l + 1) / s, x), r - l});
    formula += l * l + (2 * l + 1) * (r - l);
  }
  formula *= squared_norm<double>(v) / (s * s);
  double from_law = 0;
  for (const auto& t : law) from_law += t.square_mean();
  EXPECT_NEAR(from_law, formula, 1e-12 * formula);
  const double omega = std::min(40.0 / 9, std::sqrt(40.0) / 3);
  EXPECT_LE(formula, (1 + omega) * squared_norm<double>(v));
  expect_law("qsgd:levels=3", v, law, 20000);
}

// The float path of QSGD (vector kernel: a whole 1280-element chunk, then 64-element blocks, then
// a scalar tail) is unbiased too: its rounding probability has a resolution of 2^−24, far below the
// Monte Carlo tolerance.
TEST(Unbiased, QsgdFloatVectorPath) {
  const auto v = gaussian_vector<float>(1630, 26);
  double norm2 = 0;
  for (float x : v) norm2 += static_cast<double>(x) * x;
  const double norm = static_cast<float>(std::sqrt(norm2));  // the norm as it travels (fp32)
  const int samples = 10000;
  const auto mean = float_means("qsgd:levels=2", v, samples);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double r = 2 * std::fabs(v[i]) / norm;
    const double p = r - std::min(std::floor(r), 1.0);
    const double step = norm / 2;  // a level is worth ‖v‖/s
    EXPECT_NEAR(mean[i], v[i], kSigmas * step * std::sqrt(p * (1 - p) / samples) + 1e-5) << i;
  }
}

// C11: TernGrad is unbiased and E‖Q(v)‖² = ‖v‖_∞‖v‖₁.
TEST(Unbiased, TernGradMeanAndSecondMoment) {
  const auto v = gaussian_vector<double>(40, 22);
  double scale = 0, l1 = 0;
  for (double x : v) scale = std::max(scale, std::fabs(x)), l1 += std::fabs(x);
  std::vector<TwoPoint> law;
  for (double x : v) law.push_back({0.0, std::copysign(scale, x), std::fabs(x) / scale});
  double from_law = 0;
  for (const auto& t : law) from_law += t.square_mean();
  EXPECT_NEAR(from_law, scale * l1, 1e-12 * scale * l1);
  expect_law("terngrad", v, law, 20000);
}

// TernGrad with fp16 values: the scale travels as a half, rounded up to the first half at or
// above ‖v‖∞, so a kept trit decodes to a magnitude ≥ |v_j| and the law stays unbiased. (Rounded
// to nearest, 1.0001 travelled as 1.0: its entry was always kept and decoded 1e-4 low.)
TEST(Unbiased, TernGradHalfScaleIsNotBelowTheLargestEntry) {
  const std::vector<double> v = {1.0001, -0.25, 0.5, 0.0};  // between the halves 1 and 1 + 2^-10
  const double sent = 1.0 + std::ldexp(1.0, -10);
  const Layout layout = Layout::flat(v.size());
  auto compressor = make_compressor("terngrad:values=fp16");
  std::vector<double> out(v.size());
  for (std::uint64_t t = 0; t < 50; ++t) {
    const StepContext context{77, t, 3};
    compressor->decode(compressor->encode(std::span<const double>(v), layout, context), layout,
                       context, std::span<double>(out));
    for (const double y : out) EXPECT_TRUE(y == 0 || std::fabs(y) == sent) << y;
  }
  std::vector<TwoPoint> law;
  for (double x : v) law.push_back({0.0, std::copysign(sent, x), std::fabs(x) / sent});
  expect_law("terngrad:values=fp16", v, law, 20000);
}

// The float path of TernGrad (vector kernel, 24-bit uniforms) is unbiased.
TEST(Unbiased, TernGradFloatVectorPath) {
  const auto v = gaussian_vector<float>(256, 27);
  float scale = 0;
  for (float x : v) scale = std::max(scale, std::fabs(x));
  const int samples = 20000;
  const auto mean = float_means("terngrad", v, samples);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double p = std::fabs(v[i]) / scale;
    EXPECT_NEAR(mean[i], v[i], kSigmas * scale * std::sqrt(p * (1 - p) / samples) + 1e-5) << i;
  }
}

// Stochastic rounding: unbiased, and |Q(x) − x| < ε always (υ² = dε²).
TEST(Unbiased, StochasticRoundingMeanAndBound) {
  const auto v = gaussian_vector<double>(40, 23);
  const double eps = 0.3;
  std::vector<TwoPoint> law;
  for (double x : v) {
    const double lo = std::floor(x / eps);
    law.push_back({eps * lo, eps * (lo + 1), x / eps - lo});
  }
  expect_law("round:eps=0.3,bits=8", v, law, 20000);
}

// Rescaled Random-k (§2.3.5): unbiased with E‖U(v)‖² = (d/k)‖v‖², i.e. ω = d/k − 1.
TEST(Unbiased, RescaledRandomK) {
  const auto v = gaussian_vector<double>(40, 24);
  const double scale = 40.0 / 10.0;
  std::vector<TwoPoint> law;
  for (double x : v) law.push_back({0.0, scale * x, 0.25});
  double from_law = 0;
  for (const auto& t : law) from_law += t.square_mean();
  EXPECT_NEAR(from_law, scale * squared_norm<double>(v), 1e-12 * from_law);
  // Coordinates are dependent (exactly k kept), so only the mean is checked per coordinate; the
  // squared norm is constant-free: ‖U(v)‖² varies, its mean is tested against (d/k)‖v‖² below.
  const Draws d = draw("randk:k=10,unbiased=true,shared=false", v, 20000);
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(d.mean[i], v[i], kSigmas * std::sqrt(law[i].variance() / 20000));
  }
  double mean_square = 0, max_square = 0;
  for (double s : d.squared_norms) mean_square += s / 20000, max_square = std::max(max_square, s);
  // Var(‖U‖²) ≤ E‖U‖⁴ ≤ max², a crude but valid bound for the tolerance.
  EXPECT_NEAR(mean_square, from_law, kSigmas * max_square / std::sqrt(20000.0));
}

// Biased Random-k has δ = k/d in expectation: E‖C(v) − v‖² = (1 − k/d)‖v‖².
TEST(Unbiased, RandomKContractionInExpectation) {
  const auto v = gaussian_vector<double>(30, 25);
  const Layout layout = Layout::flat(30);
  auto compressor = make_compressor("randk:k=6");
  const int samples = 20000;
  double mean_error = 0, max_error = 0;
  std::vector<double> out(30);
  for (int t = 0; t < samples; ++t) {
    const StepContext context{5, static_cast<std::uint64_t>(t), 0};
    compressor->decode(compressor->encode(std::span<const double>(v), layout, context), layout,
                       context, std::span<double>(out));
    const double e = testing::squared_distance<double>(v, out);
    mean_error += e / samples;
    max_error = std::max(max_error, e);
  }
  EXPECT_NEAR(mean_error, 0.8 * squared_norm<double>(v),
              kSigmas * max_error / std::sqrt(samples * 1.0));
}

}  // namespace
}  // namespace gradcomp
