// CSV fields (core/csv.hpp): quoted exactly when RFC 4180 needs it.
#include "gradcomp/core/csv.hpp"

#include <gtest/gtest.h>

namespace gradcomp {
namespace {

TEST(CsvField, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(csv_field("def r=64"), "def r=64");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("topk:ratio=0.01,scope=layer"), "\"topk:ratio=0.01,scope=layer\"");
  EXPECT_EQ(csv_field("algorithm.schedule=\"step:lr=0.1,epochs=2\""),
            "\"algorithm.schedule=\"\"step:lr=0.1,epochs=2\"\"\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

}  // namespace
}  // namespace gradcomp
