// Round trips and exact message sizes for every compressor on every layout shape: empty layers,
// d = 0, d = 1, layers that are not multiples of 8 or 5, matrices and vectors; float and double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../test_support.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/index_coding.hpp"

namespace gradcomp {
namespace {

using testing::gaussian_vector;

std::vector<Layout> layouts() {
  return {Layout::flat(0),
          Layout::flat(1),
          Layout::flat(2),
          Layout::flat(1001),
          Layout::from_shapes({{0}, {5}, {0}, {3, 4}, {1}}),
          Layout::from_shapes({{7, 9}, {13}, {64, 33}, {2, 3, 3, 3}})};
}

std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

std::size_t varint_bytes(std::size_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::size_t kept(std::size_t n, double ratio) {
  if (n == 0) return 0;
  return std::min(n, std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(ratio * n))));
}

template <class T>
std::size_t expected_body_bytes(const std::string& name, const Layout& layout,
                                std::span<const T> x) {
  const std::size_t w = sizeof(T);
  const std::size_t d = layout.total_size();
  const auto layers = layout.blocks();
  auto sparse = [&](const std::vector<std::pair<std::size_t, std::size_t>>& segments) {
    std::size_t bits = 0, count = 0;
    for (auto [n, k] : segments) {
      bits += 8 + k * bits_for_index(n);
      count += k;
    }
    return ceil_div(bits, 8) + count * w;
  };
  if (name == "identity" || name == "scale") return d * w;
  if (name == "fp16") return 2 * d;
  if (name == "topk") return sparse({{d, kept(d, 0.1)}});
  if (name == "topk_layer") {
    std::vector<std::pair<std::size_t, std::size_t>> segs;
    for (const auto& b : layers) segs.emplace_back(b.size, kept(b.size, 0.1));
    return sparse(segs);
  }
  if (name == "randk_shared") return kept(d, 0.25) * w;
  if (name == "randk_private") return sparse({{d, kept(d, 0.25)}});
  if (name == "rbgs") {
    std::size_t k = 0;
    for (const auto& b : layers)
      k += b.size == 0 ? 0 : std::clamp<std::size_t>(b.size / 4, 1, b.size);
    return k * w;
  }
  if (name == "threshold") {
    std::size_t count = 0;
    for (const T v : x) count += std::fabs(v) >= T(0.5) ? 1 : 0;
    return varint_bytes(count) + sparse({{d, count}});
  }
  if (name == "scaledsign") return w + ceil_div(d, 8);
  if (name == "blocksign") return layers.size() * w + ceil_div(d, 8);
  if (name == "blocksign_fixed") return ceil_div(d, 4) * w + ceil_div(d, 8);
  if (name == "sign") return ceil_div(d, 8);
  if (name == "qsgd") return w + 3 * ceil_div(d, 8);       // s = 3: levels −3..3 in 3 bit planes
  if (name == "qsgd_max") return w + 22 * ceil_div(d, 8);  // s = 2^20: fields 0..2^21, 22 planes
  if (name == "qsgd_127") return w + 8 * ceil_div(d, 8);   // s = 127: the widest byte kernel
  if (name == "terngrad") return layers.size() * w + ceil_div(d, 5);
  if (name == "sketch_hash" || name == "sketch_gaussian") return kept(d, 0.5) * w;
  if (name == "round") return ceil_div(d * 12, 8);
  if (name == "powersgd") {
    std::size_t values = 0;
    for (const auto& b : layers) {
      values +=
          (b.is_matrix() && 2 < std::min(b.rows(), b.cols())) ? 2 * (b.rows() + b.cols()) : b.size;
    }
    return values * w;
  }
  ADD_FAILURE() << "no size formula for " << name;
  return 0;
}

const std::vector<std::pair<std::string, std::string>>& cases() {
  static const std::vector<std::pair<std::string, std::string>> all = {
      {"identity", "identity"},
      {"fp16", "fp16"},
      {"topk", "topk:ratio=0.1,index=fixed"},
      {"topk_layer", "topk:ratio=0.1,scope=layer,index=fixed"},
      {"randk_shared", "randk:ratio=0.25"},
      {"randk_private", "randk:ratio=0.25,shared=false,index=fixed"},
      {"rbgs", "rbgs:ratio=4"},
      {"threshold", "threshold:lambda=0.5,index=fixed"},
      {"scaledsign", "scaledsign"},
      {"blocksign", "blocksign"},
      {"blocksign_fixed", "blocksign:block=4"},
      {"sign", "sign"},
      {"qsgd", "qsgd:levels=3"},
      {"qsgd_127", "qsgd:levels=127"},
      {"qsgd_max", "qsgd:levels=1048576"},
      {"terngrad", "terngrad"},
      {"sketch_hash", "sketch:ratio=0.5"},
      {"sketch_gaussian", "sketch:ratio=0.5,kind=gaussian"},
      {"round", "round:eps=0.01,bits=12"},
      {"powersgd", "powersgd:rank=2"},
      {"scale", "scale:delta=0.25"},
  };
  return all;
}

// encode_and_decode: the same bytes as encode, and the decode the message gives, bit for bit
// (bytes: −0 and +0 differ), whether the compressor writes it from its encoding or decodes.
template <class T>
void expect_own_decode_is_the_decode(const std::string& spec, const Layout& layout,
                                     const std::vector<T>& x, const StepContext& context) {
  auto sender = make_compressor(spec);
  Message message;
  std::vector<T> own(x.size(), T{7});
  sender->encode_and_decode(std::span<const T>(x), layout, context, message, std::span<T>(own));
  const Message expected = make_compressor(spec)->encode(std::span<const T>(x), layout, context);
  EXPECT_EQ(message.bytes, expected.bytes) << spec;
  std::vector<T> decoded(x.size());
  make_compressor(spec)->decode(expected, layout, context, std::span<T>(decoded));
  EXPECT_EQ(testing::object_bytes(own), testing::object_bytes(decoded)) << spec;
  // The sparse form: given, it expands to the same bits; refused (over the limit, or not
  // known), the dense decode is written instead.
  for (const std::size_t limit : {x.size(), std::size_t{0}}) {
    SparseDecode<T> sparse;
    std::vector<T> dense(x.size(), T{7});
    Message again;
    const bool given = make_compressor(spec)->encode_and_decode_sparse(
        std::span<const T>(x), layout, context, again, std::span<T>(dense), sparse, limit);
    EXPECT_EQ(again.bytes, expected.bytes) << spec;
    if (given) {
      EXPECT_LE(sparse.indices.size(), limit) << spec;
      ASSERT_EQ(sparse.values.size(), sparse.indices.size()) << spec;
      std::vector<T> expanded(x.size(), T{0});
      for (std::size_t k = 0; k < sparse.indices.size(); ++k) {
        expanded[sparse.indices[k]] = sparse.values[k];
      }
      EXPECT_EQ(testing::object_bytes(expanded), testing::object_bytes(decoded))
          << spec << ", sparse";
    } else {
      EXPECT_EQ(testing::object_bytes(dense), testing::object_bytes(decoded))
          << spec << ", dense after a refused sparse decode";
    }
  }
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

template <class T>
void check_round_trip(const std::string& name, const std::string& spec, const Layout& layout) {
  const auto x = gaussian_vector<T>(layout.total_size(), 17);
  const StepContext context{3, 5, 1};
  auto compressor = make_compressor(spec);
  const Message message = compressor->encode(std::span<const T>(x), layout, context);
  const std::size_t body = expected_body_bytes<T>(name, layout, x);
  EXPECT_EQ(message.size_bytes(), MessageHeader::kBytes + body) << spec;
  EXPECT_EQ(message.payload_bits(), 8 * body);
  EXPECT_EQ(message.bits(), 8 * message.size_bytes());

  std::vector<T> decoded(x.size());
  compressor->decode(message, layout, context, std::span<T>(decoded));
  // decode_add accumulates: out = decoded + 2·decoded
  std::vector<T> accumulated = decoded;
  compressor->decode_add(message, layout, context, std::span<T>(accumulated), T{2});
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(accumulated[i], decoded[i] + T{2} * decoded[i]) << spec << " at " << i;
    ASSERT_TRUE(std::isfinite(decoded[i]));
  }
  // Encoding into a reused message gives the same bytes.
  Message reused{std::vector<std::uint8_t>(1000, 0xEE)};
  make_compressor(spec)->encode(std::span<const T>(x), layout, context, reused);
  EXPECT_EQ(reused.bytes, message.bytes) << spec;
  // A second instance (another worker) decodes the same bytes to the same vector.
  auto receiver = make_compressor(spec);
  std::vector<T> again(x.size());
  receiver->decode(message, layout, context, std::span<T>(again));
  EXPECT_EQ(again, decoded) << spec;
  expect_own_decode_is_the_decode<T>(spec, layout, x, context);
}

TEST_P(RoundTrip, ExactSizeAndConsistentDecoding) {
  const auto& [name, spec] = cases()[std::get<0>(GetParam())];
  const Layout layout = layouts()[std::get<1>(GetParam())];
  check_round_trip<float>(name, spec, layout);
  check_round_trip<double>(name, spec, layout);
}

INSTANTIATE_TEST_SUITE_P(AllCompressorsAllLayouts, RoundTrip,
                         ::testing::Combine(::testing::Range<std::size_t>(0, 18),
                                            ::testing::Range<std::size_t>(0, 6)),
                         [](const auto& test_info) {
                           return cases()[std::get<0>(test_info.param)].first + "_layout" +
                                  std::to_string(std::get<1>(test_info.param));
                         });

TEST(RoundTrip, CaseListCoversTheRegistry) {
  std::set<std::string> covered;
  for (const auto& [name, spec] : cases()) covered.insert(spec.substr(0, spec.find(':')));
  for (const auto& entry : compressor_entries())
    EXPECT_TRUE(covered.count(entry.name)) << entry.name;
}

TEST(RoundTrip, AllZeroInputDecodesToZeroExceptPlainSign) {
  const Layout layout = Layout::from_shapes({{4, 5}, {3}});
  const std::vector<float> zero(layout.total_size(), 0.0F);
  for (const auto& [name, spec] : cases()) {
    auto compressor = make_compressor(spec);
    std::vector<float> decoded(zero.size(), 9.0F);
    compressor->decode(compressor->encode(std::span<const float>(zero), layout, {}), layout, {},
                       std::span<float>(decoded));
    const float expected = name == "sign" ? 1.0F : 0.0F;  // sign(0) = +1 (docs/compressors.md §1.3)
    for (const float v : decoded) ASSERT_EQ(v, expected) << spec;
  }
}

TEST(RoundTrip, NonFiniteInputIsRejectedWithItsIndexAndLayer) {
  const Layout layout = Layout::from_shapes({{4}, {6}});
  std::vector<double> x(10, 1.0);
  x[7] = NAN;
  for (const auto& [name, spec] : cases()) {
    auto compressor = make_compressor(spec);
    try {
      compressor->encode(std::span<const double>(x), layout, {});
      ADD_FAILURE() << spec << " accepted NaN";
    } catch (const InvalidInput& e) {
      EXPECT_EQ(std::string(e.what()), compressor->name() +
                                           ": the vector holds nan at index 7 (layer 'layer1'); "
                                           "compressors need finite input");
    }
  }
  x[7] = -INFINITY;
  EXPECT_THROW(make_compressor("topk")->encode(std::span<const double>(x), layout, {}),
               InvalidInput);
}

TEST(RoundTrip, WrongLengthIsRejected) {
  const std::vector<float> x(5, 1.0F);
  try {
    make_compressor("topk:k=2")->encode(std::span<const float>(x), Layout::flat(6), {});
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "topk: the vector has 5 elements but the layout describes 6");
  }
}

TEST(RoundTrip, KAtLeastDKeepsEverythingExactly) {
  const Layout layout = Layout::from_shapes({{3}, {0}, {5}});
  const auto x = gaussian_vector<float>(8, 4);
  for (const char* spec : {"topk:k=100", "topk:k=8", "topk:k=100,scope=layer", "randk:k=9",
                           "randk:k=100,shared=false", "rbgs:ratio=1", "threshold:lambda=0"}) {
    auto compressor = make_compressor(spec);
    std::vector<float> decoded(8);
    compressor->decode(compressor->encode(std::span<const float>(x), layout, {}), layout, {},
                       std::span<float>(decoded));
    EXPECT_EQ(decoded, x) << spec;
  }
}

TEST(RoundTrip, OwnDecodeKeepsTheDecodesBitsForZerosFormatsAndScales) {
  // −0 kept by λ = 0 decodes to +0; fp16 and fp32 values of doubles are rounded by the message;
  // the unbiased Random-k scale multiplies; 1e300·d/k overflows and decoding refuses the message.
  const Layout layout = Layout::from_shapes({{6}, {0}, {9}});
  std::vector<double> x = gaussian_vector<double>(15, 8);
  x[0] = -0.0;
  x[4] = 0.0;
  x[9] = -0.0;
  const StepContext context{5, 2, 3};
  for (const char* spec :
       {"threshold:lambda=0", "threshold:lambda=0.3,values=fp16",
        "threshold:lambda=0.3,values=fp32", "topk:k=15", "topk:ratio=0.5,scope=layer,values=fp16",
        "randk:k=4,shared=false,unbiased=true", "randk:ratio=0.5,scope=layer,unbiased=true",
        "randk:k=15,values=fp32"}) {
    expect_own_decode_is_the_decode<double>(spec, layout, x, context);
    std::vector<float> narrow(x.begin(), x.end());
    expect_own_decode_is_the_decode<float>(spec, layout, narrow, context);
  }
  // The sign family writes its own decode from x's signs and the scales as stored: a block of
  // zeros (±0, scale 0) decodes to +0 everywhere, −0 has the sign of +0 (+scale), an fp16 scale
  // is the rounded one, and a block of values too small for fp16 (scale 0) decodes to +0 where
  // they are negative too (0 + (−0)), not −0.
  std::vector<double> signs = x;
  for (const std::size_t i : {0, 1, 2, 3}) signs[i] = i % 2 == 0 ? -0.0 : 0.0;
  for (const std::size_t i : {4, 5, 6, 7}) signs[i] = i % 2 == 0 ? -1e-9 : 2e-9;
  for (const char* spec : {"blocksign:block=4", "blocksign:block=4,values=fp16", "blocksign",
                           "scaledsign:values=fp16", "scaledsign", "sign"}) {
    expect_own_decode_is_the_decode<double>(spec, layout, signs, context);
    std::vector<float> narrow(signs.begin(), signs.end());
    expect_own_decode_is_the_decode<float>(spec, layout, narrow, context);
  }
  // A rescaled value beyond float's range is refused by the encode itself, before any decode.
  std::vector<float> huge(15, 3e38F);
  auto sender = make_compressor("randk:k=1,shared=false,unbiased=true");
  Message message;
  std::vector<float> own(15);
  EXPECT_THROW(sender->encode_and_decode(std::span<const float>(huge), Layout::flat(15), context,
                                         message, std::span<float>(own)),
               ValueOverflow);
}

TEST(RoundTrip, SparseCompressorsGiveTheirDecodeAsCarriedCoordinates) {
  const Layout layout = Layout::from_shapes({{40}, {0}, {60}});
  const auto x = gaussian_vector<float>(100, 5);
  const StepContext context{5, 2, 3};
  for (const auto& [spec, carried] :
       std::vector<std::pair<std::string, std::size_t>>{{"threshold:lambda=1.5", 0},
                                                        {"topk:k=7", 7},
                                                        {"topk:ratio=0.1,scope=layer", 10},
                                                        {"randk:k=9,shared=false", 9},
                                                        {"randk:k=9,unbiased=true", 9},
                                                        {"rbgs:ratio=10", 10}}) {
    std::size_t expected = carried;
    if (spec.starts_with("threshold")) {
      expected = static_cast<std::size_t>(
          std::count_if(x.begin(), x.end(), [](float v) { return std::fabs(v) >= 1.5F; }));
    }
    ASSERT_GT(expected, 0U) << spec;
    SparseDecode<float> sparse;
    std::vector<float> dense(100);
    Message message;
    EXPECT_TRUE(make_compressor(spec)->encode_and_decode_sparse(
        std::span<const float>(x), layout, context, message, std::span<float>(dense), sparse, 100))
        << spec;
    EXPECT_EQ(sparse.indices.size(), expected) << spec;
    // One fewer than carried is over the limit.
    EXPECT_EQ(make_compressor(spec)->encode_and_decode_sparse(
                  std::span<const float>(x), layout, context, message, std::span<float>(dense),
                  sparse, expected - 1),
              false)
        << spec;
  }
}

TEST(RoundTrip, Fp16OverflowIsRefusedNotSentAsInfinity) {
  std::vector<float> x = {1.0F, 70000.0F};
  try {
    make_compressor("fp16")->encode(std::span<const float>(x), Layout::flat(2), {});
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(),
                 "fp16: |x| = 70000 at index 1 (layer 'all') overflows fp16 (largest "
                 "finite 65504); scale the vector or use identity");
  }
}

// A value the encoder computes from finite input but its format cannot hold is refused at the
// sender, with the compressor's name, not sent as an infinity every receiver refuses as corrupt.
TEST(RoundTrip, ValuesANarrowFormatCannotHoldAreRefusedAtEncode) {
  const Layout layout = Layout::flat(16);
  const std::vector<float> large(16, 2.0e5F);  // every value sent (kept, scale, norm) ≥ 65520
  std::size_t compressors = 0;
  for (const CompressorEntry& entry : compressor_entries()) {
    const bool has_values =
        std::ranges::any_of(entry.params, [](const ParamSpec& p) { return p.name == "values"; });
    if (!has_values) continue;
    ++compressors;
    const std::string spec = entry.name + ":values=fp16";
    try {
      make_compressor(spec)->encode(std::span<const float>(large), layout, {});
      ADD_FAILURE() << spec << " sent a value fp16 cannot hold";
    } catch (const ValueOverflow& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(entry.name + ": a value of ", 0), 0U) << what;
      EXPECT_NE(what.find(" overflows fp16 (largest finite 65504); scale the vector down or send "
                          "wider values (values = \"fp32\" or \"fp64\")"),
                std::string::npos)
          << what;
    }
  }
  EXPECT_EQ(compressors, 12U);

  // The bound: 65519 rounds to 65504 and is sent; 65520 rounds to infinity.
  std::vector<float> x = {1.0F, -65519.0F};
  auto topk = make_compressor("topk:k=1,values=fp16");
  std::vector<float> decoded(2);
  topk->decode(topk->encode(std::span<const float>(x), Layout::flat(2), {}), Layout::flat(2), {},
               std::span<float>(decoded));
  EXPECT_EQ(decoded, (std::vector<float>{0.0F, -65504.0F}));
  x[1] = -65520.0F;
  try {
    topk->encode(std::span<const float>(x), Layout::flat(2), {});
    FAIL();
  } catch (const ValueOverflow& e) {
    EXPECT_STREQ(e.what(),
                 "topk: a value of -65520 overflows fp16 (largest finite 65504); scale the vector "
                 "down or send wider values (values = \"fp32\" or \"fp64\")");
  }
  // A double beyond float's range, sent as fp32.
  const std::vector<double> huge = {1.0, 1.0e39};
  try {
    make_compressor("topk:k=1,values=fp32")
        ->encode(std::span<const double>(huge), Layout::flat(2), {});
    FAIL();
  } catch (const ValueOverflow& e) {
    EXPECT_STREQ(e.what(),
                 "topk: a value of 1e+39 overflows fp32 (largest finite 3.4028234663852886e+38); "
                 "scale the vector down or send wider values (values = \"fp32\" or \"fp64\")");
  }
}

// Random-k's unbiased d/k times a finite x can overflow T itself.
TEST(RoundTrip, RandomKsRescalingBeyondTheRangeIsRefusedAtEncode) {
  const std::vector<float> x = {3.0e38F, 3.0e38F, 3.0e38F, 3.0e38F};
  for (const char* spec : {"randk:k=1,unbiased=true", "randk:k=1,unbiased=true,shared=false"}) {
    try {
      make_compressor(spec)->encode(std::span<const float>(x), Layout::flat(4), {});
      ADD_FAILURE() << spec;
    } catch (const ValueOverflow& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("randk: x = 3.0000000054977558e+38 at index ", 0), 0U) << what;
      EXPECT_NE(what.find(" (layer 'all') rescaled by d/k = 4 overflows float; lower the step "
                          "size or set unbiased = false"),
                std::string::npos)
          << what;
    }
  }
  // Without the rescaling the same values are sent as they are.
  std::vector<float> decoded(4);
  auto biased = make_compressor("randk:k=4");
  biased->decode(biased->encode(std::span<const float>(x), Layout::flat(4), {}), Layout::flat(4),
                 {}, std::span<float>(decoded));
  EXPECT_EQ(decoded, x);
}

TEST(RoundTrip, ValueFormatsChangeSizeAndPrecision) {
  const auto x = gaussian_vector<double>(64, 2);
  const Layout layout = Layout::flat(64);
  std::vector<double> d64(64), d32(64);
  auto fp64 = make_compressor("identity");
  auto fp32 = make_compressor("identity:values=fp32");
  const Message m64 = fp64->encode(std::span<const double>(x), layout, {});
  const Message m32 = fp32->encode(std::span<const double>(x), layout, {});
  EXPECT_EQ(m64.payload_bits(), 64U * 64U);
  EXPECT_EQ(m32.payload_bits(), 32U * 64U);
  fp64->decode(m64, layout, {}, std::span<double>(d64));
  fp32->decode(m32, layout, {}, std::span<double>(d32));
  EXPECT_EQ(d64, x);  // fp64 is exact for double input
  for (std::size_t i = 0; i < 64; ++i)
    EXPECT_EQ(d32[i], static_cast<double>(static_cast<float>(x[i])));
}

}  // namespace
}  // namespace gradcomp
