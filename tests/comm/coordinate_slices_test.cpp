// CoordinateSlices: the slices cover [0, size) once, in order, none empty; their number is a
// multiple of the threads where each thread can have one; their widths differ by at most one and
// are at most kTarget.
#include "gradcomp/comm/coordinate_slices.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace gradcomp {
namespace {

std::vector<std::size_t> widths(const CoordinateSlices& slices) {
  std::vector<std::size_t> out;
  for (std::size_t s = 0; s < slices.count(); ++s) out.push_back(slices.end(s) - slices.begin(s));
  return out;
}

TEST(CoordinateSlices, CoverEveryCoordinateOnceInOrder) {
  for (const std::size_t size : {1UL, 15UL, 16UL, 17UL, 904UL, 4096UL, 5000UL, 8193UL, 101770UL}) {
    for (const std::size_t threads : {1UL, 2UL, 3UL, 8UL}) {
      const CoordinateSlices slices(size, threads);
      ASSERT_GE(slices.count(), 1U) << size << " " << threads;
      EXPECT_EQ(slices.begin(0), 0U);
      for (std::size_t s = 1; s < slices.count(); ++s) {
        EXPECT_EQ(slices.begin(s), slices.end(s - 1)) << size << " " << threads;
      }
      EXPECT_EQ(slices.end(slices.count() - 1), size) << size << " " << threads;
      for (const std::size_t w : widths(slices)) EXPECT_GT(w, 0U) << size << " " << threads;
    }
  }
  EXPECT_EQ(CoordinateSlices(0, 2).count(), 0U);
}

TEST(CoordinateSlices, TwoThreadsShareFiveThousandCoordinatesEvenly) {
  // The simulator's d = 5,000 on two threads: 2,500 + 2,500, where slices of 4,096 gave
  // 4,096 + 904.
  const CoordinateSlices slices(5000, 2);
  EXPECT_EQ(widths(slices), (std::vector<std::size_t>{2500, 2500}));
  // Fewer coordinates than threads: one slice each.
  EXPECT_EQ(widths(CoordinateSlices(3, 8)), (std::vector<std::size_t>{1, 1, 1}));
}

TEST(CoordinateSlices, CountIsAMultipleOfTheThreadsAndWidthsDifferByAtMostOne) {
  for (const std::size_t size : {5000UL, 8193UL, 101770UL, 500000UL, 1000000UL}) {
    for (const std::size_t threads : {1UL, 2UL, 3UL, 4UL}) {
      const CoordinateSlices slices(size, threads);
      EXPECT_EQ(slices.count() % threads, 0U) << size << " " << threads;
      const std::vector<std::size_t> w = widths(slices);
      const auto [low, high] = std::minmax_element(w.begin(), w.end());
      EXPECT_LE(*high - *low, 1U) << size << " " << threads;
      EXPECT_LE(*high, CoordinateSlices::kTarget) << size << " " << threads;
    }
  }
}

}  // namespace
}  // namespace gradcomp
