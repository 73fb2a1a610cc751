#include "gradcomp/core/per_element_type.hpp"

#include <gtest/gtest.h>

namespace gradcomp {
namespace {

// Each element type has its own buffer, and a buffer keeps its storage from one call to the next:
// what lets an encode or a decode reuse it without allocating.
TEST(PerElementType, EachTypeHasItsOwnBufferThatKeepsItsStorage) {
  TypedScratch scratch;
  scratch.of<float>().assign(5, 1.5F);
  scratch.of<double>().assign(3, -2.0);
  const float* floats = scratch.of<float>().data();
  EXPECT_EQ(scratch.of<float>().size(), 5U);
  EXPECT_EQ(scratch.of<double>().size(), 3U);
  EXPECT_EQ(scratch.of<float>()[4], 1.5F);
  EXPECT_EQ(scratch.of<double>()[2], -2.0);
  scratch.of<float>().assign(4, 0.0F);  // smaller: the same storage
  EXPECT_EQ(scratch.of<float>().data(), floats);
}

TEST(PerElementType, HoldsAnyContainerOfTheType) {
  PerElementType<VectorsOf> buffers;
  buffers.of<double>().resize(2, std::vector<double>(7, 0.25));
  EXPECT_TRUE(buffers.of<float>().empty());
  ASSERT_EQ(buffers.of<double>().size(), 2U);
  EXPECT_EQ(buffers.of<double>()[1].size(), 7U);
  EXPECT_EQ(buffers.of<double>()[1][6], 0.25);
}

}  // namespace
}  // namespace gradcomp
