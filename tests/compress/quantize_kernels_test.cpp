// The QSGD vector kernels (compress/quantize_kernels-inl.hpp), on every instruction set the build
// compiled them for and the CPU runs, against scalar statements of the rules
// they implement, bit for bit, including r = s, r exactly an integer, −0, tiny values and the
// uniforms on either side of the rounding boundary:
// - wide (s > 127): r = min(s, |v|·scale) in float, l = min(⌊r⌋, s − 1), l + 1 when the top 24
//   bits of u are below (r − l)·2^24, field = s ± level;
// - narrow (s ≤ 127): z = v·scale·2^24 clamped to ±s·2^24, field = (s·2^24 + ⌊z⌋ + u24) >> 24,
//   which rounds the signed level up (towards +∞) with probability frac(z/2^24) to 24 bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "every_target.hpp"

#ifndef GRADCOMP_TESTS_QUANTIZE_KERNELS_REFERENCE  // once, not per target
#define GRADCOMP_TESTS_QUANTIZE_KERNELS_REFERENCE
namespace gradcomp {
namespace {

std::uint32_t reference_field(float value, float scale, std::uint32_t levels, std::uint32_t u) {
  const float s = static_cast<float>(levels);
  const float r = std::min(s, std::fabs(value) * scale);
  float level = std::min(std::floor(r), s - 1.0F);
  const float p = r - level;
  if (static_cast<float>(u >> 8) < p * 16777216.0F) level += 1.0F;
  const auto magnitude = static_cast<std::int64_t>(level);
  return static_cast<std::uint32_t>(
      (std::signbit(value) && magnitude > 0 ? -magnitude : magnitude) + levels);
}

std::uint32_t narrow_reference_field(float value, float scale, std::uint32_t levels,
                                     std::uint32_t u) {
  const float top = static_cast<float>(levels) * 16777216.0F;
  const float z = std::clamp(value * scale * 16777216.0F, -top, top);
  const auto floor = static_cast<std::int64_t>(std::floor(z));
  return static_cast<std::uint32_t>(
      (static_cast<std::int64_t>(levels) * 16777216 + floor + (u >> 8)) >> 24);
}

// Values that reach every case, and uniforms drawn near each value's rounding boundary.
void make_case(std::uint32_t levels, std::size_t n, std::mt19937& rng, std::vector<float>& v,
               std::vector<std::uint32_t>& u, float& scale) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<std::uint32_t> any;
  v.resize(n);
  u.resize(n);
  for (auto& x : v) x = normal(rng);
  double squares = 0;
  for (float x : v) squares += static_cast<double>(x) * x;
  const float norm = static_cast<float>(std::sqrt(squares));
  scale = static_cast<float>(levels) / norm;
  v[0] = norm;  // r = s (or just above it, clamped)
  v[1] = -norm;
  v[2] = -0.0F;
  v[3] = 0.0F;
  v[4] = 1e-30F;        // r far below 2^−24
  v[5] = 3.0F / scale;  // r close to an integer
  v[6] = -0.5F / scale;
  v[7] = std::nextafter(norm, 0.0F);
  for (std::size_t i = 0; i < n; ++i) {
    const float r = std::min(static_cast<float>(levels), std::fabs(v[i]) * scale);
    const float level = std::min(std::floor(r), static_cast<float>(levels) - 1.0F);
    // The wide rule's boundary c = ⌈p·2^24⌉ (also the narrow rule's for negative values), and
    // the narrow rule's for positive values, 2^24 − ⌊p·2^24⌋.
    const auto c = static_cast<std::int64_t>(std::ceil((r - level) * 16777216.0F));
    const auto f = static_cast<std::int64_t>(std::floor((r - level) * 16777216.0F));
    const std::int64_t boundary = i % 4 == 0 ? c : 16777216 - f;
    const std::int64_t offset = static_cast<std::int64_t>(any(rng) % 3) - 1;  // −1, 0, +1
    const std::int64_t u24 = std::clamp<std::int64_t>(boundary + offset, 0, 0xFFFFFF);
    u[i] = i % 2 == 0 ? static_cast<std::uint32_t>(u24 << 8) | (any(rng) & 0xFF) : any(rng);
  }
}

}  // namespace
}  // namespace gradcomp
#endif  // GRADCOMP_TESTS_QUANTIZE_KERNELS_REFERENCE

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "compress/quantize_kernels_test.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/compress/quantize_kernels-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

void check_qsgd_kernels_against_the_rules() {
  std::mt19937 rng(11);
  for (const std::uint32_t levels : {1U, 2U, 3U, 7U, 16U, 100U, 127U, 128U, 1000U, 1U << 20}) {
    const auto width = static_cast<unsigned>(std::bit_width(2 * levels));
    const std::size_t blocks = 20;
    std::vector<float> v;
    std::vector<std::uint32_t> u;
    float scale = 0;
    make_case(levels, blocks * simd::kBlock, rng, v, u, scale);
    std::vector<std::uint64_t> words(blocks * width);
    simd::qsgd_plane_blocks_for(width)(v.data(), blocks, scale, levels, u.data(), words.data(),
                                       v.size());
    for (std::size_t k = 0; k < blocks; ++k) {
      std::uint32_t fields[simd::kBlock];
      for (std::size_t j = 0; j < simd::kBlock; ++j) {
        const std::size_t i = k * simd::kBlock + j;
        fields[j] = levels <= 127 ? narrow_reference_field(v[i], scale, levels, u[i])
                                  : reference_field(v[i], scale, levels, u[i]);
      }
      std::uint64_t expected[32];
      simd::transpose_block(fields, width, expected);
      for (unsigned b = 0; b < width; ++b) {
        ASSERT_EQ(words[k * width + b], expected[b])
            << "levels " << levels << ", block " << k << ", plane " << b;
      }
    }
  }
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {
namespace {

HWY_EXPORT(check_qsgd_kernels_against_the_rules);

TEST(QsgdKernels, EqualTheScalarRuleBitForBitForNarrowAndWideFieldsOnEveryTarget) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    SCOPED_TRACE(hwy::TargetName(target));
    HWY_DYNAMIC_DISPATCH(check_qsgd_kernels_against_the_rules)();
  }
}

TEST(QsgdKernels, ReferenceRulesRoundAtTheStatedBoundaries) {
  // Wide rule: r = 2.25 rounds up iff u24 < 0.25·2^24.
  const std::uint32_t quarter = 1U << 22;
  EXPECT_EQ(reference_field(2.25F, 1.0F, 4, (quarter - 1) << 8), 4U + 3U);
  EXPECT_EQ(reference_field(2.25F, 1.0F, 4, quarter << 8), 4U + 2U);
  EXPECT_EQ(reference_field(-2.25F, 1.0F, 4, quarter << 8), 4U - 2U);
  EXPECT_EQ(reference_field(4.0F, 1.0F, 4, 0xFFFFFFFFU), 8U);  // r = s: always s
  EXPECT_EQ(reference_field(-0.0F, 1.0F, 4, 0xFFFFFFFFU), 4U);
  // Narrow rule: +2.25 goes to 3 iff u24 ≥ 0.75·2^24; −2.25 goes to −3 iff u24 < 0.25·2^24.
  const std::uint32_t three_quarters = 3U << 22;
  EXPECT_EQ(narrow_reference_field(2.25F, 1.0F, 4, three_quarters << 8), 4U + 3U);
  EXPECT_EQ(narrow_reference_field(2.25F, 1.0F, 4, (three_quarters - 1) << 8), 4U + 2U);
  EXPECT_EQ(narrow_reference_field(-2.25F, 1.0F, 4, (quarter - 1) << 8), 4U - 3U);
  EXPECT_EQ(narrow_reference_field(-2.25F, 1.0F, 4, quarter << 8), 4U - 2U);
  EXPECT_EQ(narrow_reference_field(4.5F, 1.0F, 4, 0xFFFFFFFFU), 8U);  // clamped to r = s
  EXPECT_EQ(narrow_reference_field(-4.0F, 1.0F, 4, 0xFFFFFFFFU), 0U);
  EXPECT_EQ(narrow_reference_field(-0.0F, 1.0F, 4, 0xFFFFFFFFU), 4U);
  EXPECT_EQ(narrow_reference_field(3.0F, 1.0F, 4, 0xFFFFFFFFU), 7U);  // an integer: no rounding
}

}  // namespace
}  // namespace gradcomp
#endif  // HWY_ONCE
