// Top-k selection equals the first k of a full sort by (|v| desc, index asc), on the sampled path
// too, with many ties and adversarial orders.
#include "gradcomp/compress/topk_select.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <numeric>

#include "../test_support.hpp"
#include "gradcomp/core/magnitude.hpp"

namespace gradcomp {
namespace {

template <class T>
std::vector<std::uint32_t> by_full_sort(const std::vector<T>& x, std::size_t k) {
  std::vector<std::uint32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const T ma = std::fabs(x[a]), mb = std::fabs(x[b]);
    return ma != mb ? ma > mb : a < b;
  });
  order.resize(std::min(k, x.size()));
  std::sort(order.begin(), order.end());
  return order;
}

template <class T>
void expect_exact(const std::vector<T>& x, std::size_t k, const std::string& what) {
  std::vector<std::uint32_t> selected;
  std::vector<T> values = {T{7}};  // the selection appends its values
  ASSERT_TRUE(select_top_k(std::span<const T>(x), k, 1234, selected, &values));
  ASSERT_EQ(selected, by_full_sort(x, k)) << what << " k=" << k;
  ASSERT_EQ(values.size(), selected.size() + 1) << what;
  EXPECT_EQ(values[0], T{7});
  for (std::size_t i = 0; i < selected.size(); ++i) {
    ASSERT_EQ(std::bit_cast<simd::MagnitudeBits<T>>(values[i + 1]),
              std::bit_cast<simd::MagnitudeBits<T>>(x[selected[i]]))
        << what << " value " << i;
  }
}

TEST(TopKSelect, EqualsFullSortOnGaussianVectors) {
  for (const std::size_t n : {1U, 10U, 1000U, 70000U, 300000U}) {
    const auto x = testing::gaussian_vector<float>(n, n);
    for (const std::size_t k : {std::size_t{1}, n / 1000 + 1, n / 100 + 1, n / 10 + 1, n}) {
      expect_exact(x, k, "gaussian float n=" + std::to_string(n));
    }
    const auto y = testing::gaussian_vector<double>(n, n + 1);
    expect_exact(y, n / 100 + 1, "gaussian double");
  }
}

TEST(TopKSelect, EqualsFullSortWithTiesAndAdversarialOrders) {
  const std::size_t n = 200000;
  auto x = testing::gaussian_vector<float>(n, 5);
  for (auto& v : x) v = std::round(v * 4) / 4;  // ~20 distinct magnitudes: many ties
  for (const std::size_t k : {1U, 17U, 200U, 2000U, 12000U}) expect_exact(x, k, "ties");
  std::vector<float> equal(n, -1.5F);
  expect_exact(equal, 300, "all equal");
  std::vector<float> ascending(n);
  std::iota(ascending.begin(), ascending.end(), 0.0F);
  expect_exact(ascending, 500, "ascending");
  std::vector<float> spike(n, 0.0F);
  spike[n - 1] = 3.0F;
  expect_exact(spike, 50, "one spike in zeros");
  expect_exact(spike, 0, "k = 0");
}

TEST(TopKSelect, NoticesNonFiniteOnEveryPath) {
  for (const std::size_t n : {100U, 200000U}) {
    for (const float bad : {NAN, INFINITY, -INFINITY}) {
      for (const std::size_t where : {std::size_t{0}, n / 2, n - 1}) {
        auto x = testing::gaussian_vector<float>(n, 9);
        x[where] = bad;
        std::vector<std::uint32_t> selected;
        for (const std::size_t k : {std::size_t{1}, n / 1000 + 1, n}) {
          EXPECT_FALSE(select_top_k(std::span<const float>(x), k, 1, selected)) << n << " " << k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace gradcomp
