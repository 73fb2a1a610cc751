// Decoders reject truncated, corrupt and mismatched messages with DecodeError, never a crash
// (the ASan+UBSan preset runs this too; the fuzz targets in tests/fuzz go further).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../test_support.hpp"
#include "gradcomp/compress/registry.hpp"

namespace gradcomp {
namespace {

constexpr const char* kSpecs[] = {"identity",
                                  "fp16",
                                  "topk:ratio=0.2",
                                  "topk:ratio=0.2,scope=layer",
                                  "randk:ratio=0.3",
                                  "randk:ratio=0.3,shared=false",
                                  "rbgs:ratio=3",
                                  "threshold:lambda=0.8",
                                  "scaledsign",
                                  "blocksign",
                                  "blocksign:block=5",
                                  "sign",
                                  "qsgd:levels=5",
                                  "terngrad",
                                  "sketch:ratio=0.3",
                                  "sketch:p=4,kind=gaussian",
                                  "round:eps=0.05,bits=6",
                                  "powersgd:rank=1"};

const Layout& layout() {
  static const Layout l = Layout::from_shapes({{6, 5}, {7}, {0}, {11}});
  return l;
}

Message encode(const std::string& spec, const StepContext& context = {1, 2, 0}) {
  const auto x = testing::gaussian_vector<float>(layout().total_size(), 31);
  return make_compressor(spec)->encode(std::span<const float>(x), layout(), context);
}

void expect_rejected(const std::string& spec, const Message& message, const std::string& what,
                     const StepContext& context = {1, 2, 0}) {
  std::vector<float> out(layout().total_size());
  try {
    make_compressor(spec)->decode(message, layout(), context, std::span<float>(out));
    ADD_FAILURE() << spec << ": " << what << " was accepted";
  } catch (const DecodeError&) {
  }
}

TEST(DecodeReject, EveryTruncationIsAnError) {
  for (const char* spec : kSpecs) {
    const Message whole = encode(spec);
    for (std::size_t size = 0; size < whole.bytes.size(); ++size) {
      Message cut{std::vector<std::uint8_t>(whole.bytes.begin(), whole.bytes.begin() + size)};
      expect_rejected(spec, cut, "a message cut to " + std::to_string(size) + " bytes");
    }
  }
}

// PowerSGD's P and Q are finite fp32 values, but their products P Qᵀ can leave float's range: a
// real message never decodes to inf, so such a message is corrupt (found by the Python module's
// mutation test, tests/python/test_message_fuzz.py).
TEST(DecodeReject, FactorsWhoseProductOverflowsAreCorrupt) {
  Message message = encode("powersgd:rank=1");
  const float huge = 1e30F;                  // P_i Q_j = 1e60, beyond float's 3.4e38
  for (std::size_t v = 0; v < 6 + 5; ++v) {  // P (6 × 1) then Q (5 × 1) of the 6 × 5 layer
    std::memcpy(message.bytes.data() + MessageHeader::kBytes + 4 * v, &huge, 4);
  }
  std::vector<float> out(layout().total_size());
  try {
    make_compressor("powersgd:rank=1")->decode(message, layout(), {1, 2, 0}, std::span<float>(out));
    ADD_FAILURE() << "a message decoding to inf was accepted";
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "powersgd: message corrupt: it decodes to a non-finite element");
  }
}

TEST(DecodeReject, TrailingBytesAreAnError) {
  for (const char* spec : kSpecs) {
    Message longer = encode(spec);
    longer.bytes.push_back(0);
    expect_rejected(spec, longer, "a trailing byte");
  }
}

TEST(DecodeReject, SparseSectionsWithAGapOrANonFiniteValueAreCorruptAndAddNothing) {
  // The values are the message's last count × 4 bytes: a byte inserted before them leaves a gap
  // after the indices; a NaN value is refused before anything is added.
  for (const char* spec :
       {"threshold:lambda=0.8", "topk:ratio=0.2,scope=layer", "randk:ratio=0.3,shared=false"}) {
    const Message message = encode(spec);
    std::vector<float> out(layout().total_size(), 0.0F);
    std::vector<float> decoded = out;
    make_compressor(spec)->decode(message, layout(), {1, 2, 0}, std::span<float>(decoded));
    const auto kept = static_cast<std::size_t>(
        std::count_if(decoded.begin(), decoded.end(), [](float v) { return v != 0.0F; }));
    ASSERT_GT(kept, 0U) << spec;
    Message gap = message;
    gap.bytes.insert(gap.bytes.end() - static_cast<std::ptrdiff_t>(4 * kept), std::uint8_t{0});
    try {
      make_compressor(spec)->decode_add(gap, layout(), {1, 2, 0}, std::span<float>(out));
      ADD_FAILURE() << spec << ": a gap before the values was accepted";
    } catch (const DecodeError& e) {
      EXPECT_STREQ(e.what(), "message corrupt: the sparse indices end 1 bytes before the values")
          << spec;
    }
    Message nan = message;
    const float not_a_number = NAN;
    std::memcpy(nan.bytes.data() + nan.bytes.size() - 4, &not_a_number, 4);
    std::fill(out.begin(), out.end(), 2.0F);
    try {
      make_compressor(spec)->decode_add(nan, layout(), {1, 2, 0}, std::span<float>(out));
      ADD_FAILURE() << spec << ": a NaN value was accepted";
    } catch (const DecodeError& e) {
      EXPECT_STREQ(e.what(), "message corrupt: a value is NaN or infinite") << spec;
    }
    EXPECT_EQ(out, std::vector<float>(layout().total_size(), 2.0F)) << spec;
  }
}

TEST(DecodeReject, ValuesNotFiniteInTheDecodedTypeAreRefusedInEveryValueFormat) {
  // The check reads the stored bits of each format (an all-ones exponent), and an fp64 value that
  // is finite but beyond float's range is refused when the receiver decodes into float.
  const auto x = testing::gaussian_vector<double>(layout().total_size(), 31);
  const auto refused = [](const char* spec, const Message& message, auto zero, const char* what) {
    std::vector<decltype(zero)> out(layout().total_size(), decltype(zero){2});
    try {
      make_compressor(spec)->decode_add(message, layout(), {1, 2, 0},
                                        std::span<decltype(zero)>(out));
      ADD_FAILURE() << spec << ": " << what << " was accepted";
    } catch (const DecodeError& e) {
      EXPECT_STREQ(e.what(), "message corrupt: a value is NaN or infinite") << spec << ", " << what;
    }
    EXPECT_EQ(out, std::vector<decltype(zero)>(layout().total_size(), decltype(zero){2}))
        << spec << ", " << what;
  };
  const auto with_last_value = [](Message message, const void* bits, std::size_t width) {
    // The size check also tells GCC's -Wstringop-overflow that the bytes are there.
    if (message.bytes.size() < width) {
      ADD_FAILURE() << "a message of " << message.bytes.size() << " bytes has no last value";
      return message;
    }
    std::memcpy(message.bytes.data() + message.bytes.size() - width, bits, width);
    return message;
  };
  const char* const fp16 = "threshold:lambda=0.8,values=fp16";
  const Message half =
      make_compressor(fp16)->encode(std::span<const double>(x), layout(), {1, 2, 0});
  for (const std::uint16_t bits :
       {std::uint16_t{0x7C00}, std::uint16_t{0xFC00}, std::uint16_t{0x7E01}}) {
    refused(fp16, with_last_value(half, &bits, 2), 0.0F, "an fp16 infinity or NaN");
  }
  const char* const fp64 = "threshold:lambda=0.8,values=fp64";
  const Message wide =
      make_compressor(fp64)->encode(std::span<const double>(x), layout(), {1, 2, 0});
  const double infinite = -INFINITY;
  refused(fp64, with_last_value(wide, &infinite, 8), 0.0, "an fp64 infinity");
  const double beyond_float = 1e300;
  const Message huge = with_last_value(wide, &beyond_float, 8);
  refused(fp64, huge, 0.0F, "an fp64 value beyond float's range");
  std::vector<double> out(layout().total_size(), 0.0);  // finite as a double: added
  make_compressor(fp64)->decode_add(huge, layout(), {1, 2, 0}, std::span<double>(out));
  EXPECT_EQ(std::count(out.begin(), out.end(), 1e300), 1);
}

TEST(DecodeReject, MismatchesAreNamed) {
  std::vector<float> out(layout().total_size());
  const Message topk = encode("topk:ratio=0.2");
  try {
    make_compressor("rbgs:ratio=3")->decode(topk, layout(), {1, 2, 0}, std::span<float>(out));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "message was made by compressor #3, not by rbgs (#5)");
  }
  try {
    make_compressor("topk:ratio=0.2")->decode(topk, layout(), {1, 9, 0}, std::span<float>(out));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "topk: message is from step 2, the receiver is at step 9");
  }
  try {
    make_compressor("topk:ratio=0.3")->decode(topk, layout(), {1, 2, 0}, std::span<float>(out));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("made with other settings or another layout"),
              std::string::npos);
  }
  const Layout other = Layout::from_shapes({{30}, {7}, {0}, {11}});  // same d, other layers
  try {
    make_compressor("topk:ratio=0.2")->decode(topk, other, {1, 2, 0}, std::span<float>(out));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("another layout"), std::string::npos);
  }
  std::vector<double> out64(layout().total_size());
  try {
    make_compressor("topk:ratio=0.2")->decode(topk, layout(), {1, 2, 0}, std::span<double>(out64));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "topk: message carries fp32 values, expected fp64");
  }
  Message version = topk;
  version.bytes[2] = 7;
  try {
    make_compressor("topk:ratio=0.2")->decode(version, layout(), {1, 2, 0}, std::span<float>(out));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "message has wire-format version 7, this gradcomp reads version 1");
  }
}

// Random corruption of body bytes: either a DecodeError or a finite decoded vector.
TEST(DecodeReject, CorruptBytesNeverCrash) {
  RandomStream stream(3, Purpose::kTest, 0, 0, 0);
  for (const char* spec : kSpecs) {
    const Message whole = encode(spec);
    if (whole.bytes.size() <= MessageHeader::kBytes) continue;
    int rejected = 0;
    for (int trial = 0; trial < 300; ++trial) {
      Message corrupt = whole;
      const std::size_t body = corrupt.bytes.size() - MessageHeader::kBytes;
      for (int flips = 0; flips < 3; ++flips) {
        corrupt.bytes[MessageHeader::kBytes + stream.below(body)] ^=
            static_cast<std::uint8_t>(1U << stream.below(8));
      }
      std::vector<float> out(layout().total_size());
      try {
        make_compressor(spec)->decode(corrupt, layout(), {1, 2, 0}, std::span<float>(out));
        for (float v : out) ASSERT_TRUE(std::isfinite(v)) << spec;
      } catch (const DecodeError&) {
        ++rejected;
      }
    }
    SUCCEED() << spec << " rejected " << rejected << " of 300";
  }
}

}  // namespace
}  // namespace gradcomp
