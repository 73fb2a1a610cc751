#include "gradcomp/core/layout.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gradcomp/core/error.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

TEST(Layout, FromShapesTilesTheVector) {
  const Layout layout = Layout::from_shapes({{3, 4}, {0}, {5}});
  EXPECT_EQ(layout.total_size(), 17U);
  EXPECT_EQ(layout.blocks()[2].offset, 12U);
  EXPECT_EQ(layout.block_of(12).name, "layer2");
  EXPECT_TRUE(layout.blocks()[0].is_matrix());
  EXPECT_FALSE(layout.blocks()[2].is_matrix());
}

TEST(Layout, RejectsGapsAndWrongShapes) {
  try {
    Layout({Block{"a", 0, 4, {4}}, Block{"b", 5, 1, {1}}});
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "layout: block 'b' starts at 5 but the previous block ends at 4");
  }
  EXPECT_THROW(Layout({Block{"a", 0, 4, {3}}}), InvalidInput);
}

TEST(Layout, SegmentsForEveryScope) {
  const Layout layout = Layout::from_shapes({{3}, {0}, {7}});
  EXPECT_EQ(make_segments(layout, Scope::kModel).size(), 1U);
  const auto layers = make_segments(layout, Scope::kLayer);
  ASSERT_EQ(layers.size(), 3U);
  EXPECT_EQ(layers[1].size, 0U);
  const auto fixed = make_segments(layout, Scope::kFixed, 4);
  ASSERT_EQ(fixed.size(), 3U);  // 4 + 4 + 2
  EXPECT_EQ(fixed[2].size, 2U);
  EXPECT_EQ(fixed[2].offset, 8U);
}

TEST(Layout, ReadsJsonAndNamesTheProblem) {
  const auto dir = testing::scratch_directory();
  const std::string good = (dir / "gradcomp_layout_good.json").string();
  std::ofstream(good) << R"({"layers": [{"name": "w", "shape": [2, 3]}, {"shape": [4]}]})";
  const Layout layout = Layout::from_json_file(good);
  EXPECT_EQ(layout.total_size(), 10U);
  EXPECT_EQ(layout.blocks()[1].name, "layer1");
  const std::string bad = (dir / "gradcomp_layout_bad.json").string();
  std::ofstream(bad) << R"({"layers": [{"name": "w", "shape": [2, -3]}]})";
  try {
    Layout::from_json_file(bad);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()), "layout file '" + bad +
                                         "': layer 'w' has a shape entry that is not a "
                                         "non-negative integer");
  }
}

// Shapes whose element counts overflow 64 bits, or whose sum passes what a message's 32-bit
// length field addresses, are bad input with the layer named (they once wrapped around into small
// sizes and crashed `gradcomp inspect`).
TEST(Layout, RefusesSizesThatOverflowOrPassTheWireLimit) {
  const auto dir = testing::scratch_directory();
  const auto message_of = [&](const std::string& layers) {
    const std::string path = (dir / "gradcomp_layout_huge.json").string();
    std::ofstream(path) << R"({"layers": )" << layers << "}";
    try {
      Layout::from_json_file(path);
    } catch (const InvalidInput& e) {
      const std::string what = e.what();
      const std::string prefix = "layout file '" + path + "': ";
      return what.starts_with(prefix) ? what.substr(prefix.size()) : "unprefixed: " + what;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message_of(R"([{"shape": [18446744073709551000]}, {"shape": [1616]}])"),
            "the layers up to 'layer0' hold 18446744073709551000 elements, more than the "
            "4294967295 (2^32 − 1) a message can address (its length field has 32 bits); split "
            "the model into parts below that");
  EXPECT_EQ(message_of(R"([{"name": "w", "shape": [2, 9223372036854775308]}, {"shape": [2000]}])"),
            "the layers up to 'w' hold 18446744073709550616 elements, more than the 4294967295 "
            "(2^32 − 1) a message can address (its length field has 32 bits); split the model "
            "into parts below that");
  EXPECT_EQ(message_of(R"([{"name": "w", "shape": [3, 9223372036854775308]}])"),
            "layer 'w' has shape [3, 9223372036854775308], whose element count overflows 64 "
            "bits; give the layer's real shape");
  EXPECT_EQ(message_of(R"([{"name": "w", "shape": [4294967296, 4294967296]}])"),
            "layer 'w' has shape [4294967296, 4294967296], whose element count overflows 64 "
            "bits; give the layer's real shape");
  EXPECT_EQ(message_of(R"([{"shape": [4294967295]}, {"name": "b", "shape": [1]}])"),
            "the layers up to 'b' hold 4294967296 elements, more than the 4294967295 (2^32 − 1) a "
            "message can address (its length field has 32 bits); split the model into parts "
            "below that");
  EXPECT_EQ(Layout::from_shapes({{65537, 65535}}).total_size(), Layout::kMaxElements);
  // Blocks given with sizes directly are checked alike.
  EXPECT_THROW(Layout({Block{"w", 0, 0, {std::size_t{1} << 32, std::size_t{1} << 32}}}),
               InvalidInput);
}

}  // namespace
}  // namespace gradcomp
