// CoordinateSlices: the slices cover [0, size) once, in order, none empty; below kSplitMinimum
// there is one; from it on their number is a multiple of the threads, their widths differ by at
// most one and are at most kTarget.
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
  for (const std::size_t size :
       {1UL, 15UL, 16UL, 17UL, 904UL, 4096UL, 5000UL, 8193UL, 32767UL, 32768UL, 101770UL}) {
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

TEST(CoordinateSlices, AShortPassIsOneSlice) {
  // The simulator's d = 5,000: one slice on any number of threads (two slices of 2,500 took five
  // times as long as one on the two-core VM of docs/benchmarks.md).
  EXPECT_EQ(widths(CoordinateSlices(5000, 2)), (std::vector<std::size_t>{5000}));
  EXPECT_EQ(widths(CoordinateSlices(3, 8)), (std::vector<std::size_t>{3}));
  const std::size_t below = CoordinateSlices::kSplitMinimum - 1;
  EXPECT_EQ(CoordinateSlices(below, 4).count(), 1U);
  EXPECT_EQ(CoordinateSlices(CoordinateSlices::kSplitMinimum, 2).count(),
            2 * ((CoordinateSlices::kSplitMinimum + 2 * CoordinateSlices::kTarget - 1) /
                 (2 * CoordinateSlices::kTarget)));
}

TEST(CoordinateSlices, CountIsAMultipleOfTheThreadsAndWidthsDifferByAtMostOne) {
  for (const std::size_t size : {32768UL, 40000UL, 101770UL, 500000UL, 1000000UL}) {
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
