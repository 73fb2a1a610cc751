// The portable build compiles the SIMD kernels once per instruction set and runs the best one the
// CPU has (docs/library.md, "Portable binaries"). Every target must give the same bytes on the
// wire and the same decoded bits as the build's baseline: these tests force the dispatch to each
// target this CPU can run and compare, for every compressor, float and double, awkward lengths
// (around the 64-element blocks and the vector widths), layer layouts, and the selection and
// finiteness kernels on their own.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../every_target.hpp"
#include "../test_support.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/compress/topk_select.hpp"

namespace gradcomp {
namespace {

using testing::every_target;
using testing::ForcedTarget;
using testing::gaussian_vector;

const std::vector<std::string> kSpecs = {"identity",
                                         "identity:values=fp16",
                                         "fp16",
                                         "scale:delta=0.3",
                                         "topk:ratio=0.05",
                                         "topk:ratio=0.1",  // split Rice: b ≥ 1, 256+ indices
                                         "topk:ratio=0.3,scope=layer,index=fixed",
                                         "topk:ratio=0.32,scope=layer",  // the bitmap
                                         "topk:ratio=0.32,index=rice",
                                         "threshold:lambda=1",  // about 32%: the bitmap
                                         "topk:k=1",
                                         "randk:ratio=0.1",
                                         "randk:ratio=0.2,shared=false,unbiased=true",
                                         "rbgs:ratio=8",
                                         "threshold:lambda=1.2",
                                         "threshold:lambda=0",
                                         "scaledsign",
                                         "blocksign",
                                         "blocksign:block=100",
                                         "sign",
                                         "qsgd:levels=1",
                                         "qsgd:levels=16",
                                         "qsgd:levels=127",
                                         "qsgd:levels=300",
                                         "qsgd:levels=16,scope=layer,values=fp16",
                                         "terngrad",
                                         "terngrad:scope=model",
                                         "sketch:ratio=0.1",
                                         "round:eps=0.01",
                                         "round:eps=0.05,mode=nearest,bits=5",
                                         "powersgd:rank=2"};

std::vector<Layout> layouts() {
  return {Layout::flat(1), Layout::flat(63), Layout::flat(65), Layout::flat(1280 * 3 + 17),
          Layout::from_shapes({{7, 9}, {13}, {64, 33}, {2, 3, 3, 3}, {1}})};
}

template <class T>
std::vector<std::uint8_t> bits_of(const std::vector<T>& v) {
  std::vector<std::uint8_t> bits(v.size() * sizeof(T));
  if (!bits.empty()) std::memcpy(bits.data(), v.data(), bits.size());
  return bits;
}

// What one target makes of x under spec: the messages of two steps (PowerSGD's second is warm
// started) and the decoded bits of both. A second instance's encode_and_decode must give the same
// bytes and bits (its own decode may be written from the encoding, by this target's kernels).
template <class T>
std::vector<std::vector<std::uint8_t>> run(const std::string& spec, const Layout& layout,
                                           const std::vector<T>& x) {
  auto compressor = make_compressor(spec);
  auto sender = make_compressor(spec);
  std::vector<std::vector<std::uint8_t>> outputs;
  for (std::uint64_t step = 0; step < 2; ++step) {
    const StepContext context{5, step, 3};
    const Message message = compressor->encode(std::span<const T>(x), layout, context);
    std::vector<T> decoded(x.size());
    compressor->decode(message, layout, context, std::span<T>(decoded));
    outputs.push_back(message.bytes);
    outputs.push_back(bits_of(decoded));
    Message sent;
    std::vector<T> own(x.size(), T{3});
    sender->encode_and_decode(std::span<const T>(x), layout, context, sent, std::span<T>(own));
    EXPECT_EQ(sent.bytes, message.bytes) << spec << ", encode_and_decode";
    EXPECT_EQ(bits_of(own), outputs.back()) << spec << ", encode_and_decode";
  }
  return outputs;
}

template <class T>
void expect_every_target_equals_the_baseline() {
  const auto targets = every_target();
  ASSERT_FALSE(targets.empty());
  for (const Layout& layout : layouts()) {
    auto x = gaussian_vector<T>(layout.total_size(), 17);
    for (std::size_t i = 0; i < x.size(); i += 11) x[i] *= T(40);   // some large, for Top-k
    for (std::size_t i = 5; i < x.size(); i += 13) x[i] = T(-0.0);  // kept by λ = 0: decode +0
    for (const std::string& spec : kSpecs) {
      std::vector<std::vector<std::uint8_t>> baseline;
      {
        const ForcedTarget forced(targets.back());
        baseline = run(spec, layout, x);
      }
      for (const std::int64_t target : targets) {
        const ForcedTarget forced(target);
        EXPECT_EQ(run(spec, layout, x), baseline)
            << spec << " on " << hwy::TargetName(target) << " differs from "
            << hwy::TargetName(targets.back()) << ", d = " << layout.total_size();
      }
    }
  }
}

TEST(Targets, EveryCompressorGivesTheBaselinesBytesAndBitsOnEveryTargetFloat) {
  expect_every_target_equals_the_baseline<float>();
}

TEST(Targets, EveryCompressorGivesTheBaselinesBytesAndBitsOnEveryTargetDouble) {
  expect_every_target_equals_the_baseline<double>();
}

// The sparse section's decode adds weight·v at each index on every target: the support's bitmap
// (b = 0, which auto takes at 32–90%) in vectors on AVX-512 and bit by bit elsewhere, the Rice
// code words of b ≥ 1, into an output that already holds values (−0 among them), with two
// segments in one message, against the additions written out here.
template <class T>
void expect_sparse_decode_adds_on_every_target() {
  RandomStream stream(11, Purpose::kTest, 0, 0, 0);
  for (const std::size_t d : {200U, 5'000U, 70'001U}) {
    for (const double density : {0.9, 0.5, 0.32, 0.05}) {
      const std::vector<Segment> segments{{0, d / 3}, {d / 3, d - d / 3}};
      std::vector<SparseSegment> parts;
      std::vector<std::size_t> counts;
      for (const Segment& segment : segments) {
        SparseSegment part{segment, {}, {}};
        for (std::size_t i = 0; i < segment.size; ++i) {
          if (stream.uniform() < density) part.indices.push_back(static_cast<std::uint32_t>(i));
        }
        counts.push_back(part.indices.size());
        parts.push_back(std::move(part));
      }
      const auto x = gaussian_vector<T>(d, 5);
      const ValueFormat format = std::is_same_v<T, float> ? ValueFormat::kFp32 : ValueFormat::kFp64;
      std::vector<std::uint8_t> bytes;
      write_sparse_indices(bytes, parts, IndexChoice::kAuto);
      write_sparse_values<T>(bytes, std::span<const T>(x), parts, format);
      if (density >= 0.32 && d >= 5'000) {
        EXPECT_EQ(bytes[0], kBitmapTag) << d << ", " << density;
      }
      if (density == 0.05 && d == 70'001) {  // split Rice: b ≥ 1 and 256 indices or more
        EXPECT_EQ(bytes[0] & 0xC0U, 0xC0U) << "tag " << int{bytes[0]};
      }
      const T weight = T(0.375);
      std::vector<T> start = gaussian_vector<T>(d, 6);
      for (std::size_t i = 0; i < d; i += 7) start[i] = T(-0.0);
      std::vector<T> expected = start;
      for (const SparseSegment& part : parts) {
        for (const std::uint32_t i : part.indices) {
          expected[part.segment.offset + i] += weight * x[part.segment.offset + i];
        }
      }
      for (const std::int64_t target : every_target()) {
        const ForcedTarget forced(target);
        std::vector<T> out = start;
        ByteReader reader(bytes);
        read_sparse_add(reader, segments, counts, format, std::span<T>(out), weight);
        EXPECT_EQ(bits_of(out), bits_of(expected))
            << hwy::TargetName(target) << ", d = " << d << ", density " << density;
      }
    }
  }
}

TEST(Targets, SparseDecodeAddsTheWeightedValuesOnEveryTargetFloat) {
  expect_sparse_decode_adds_on_every_target<float>();
}

TEST(Targets, SparseDecodeAddsTheWeightedValuesOnEveryTargetDouble) {
  expect_sparse_decode_adds_on_every_target<double>();
}

// A corrupt split Rice section decodes alike on every target: AVX-512's vector decode hands any
// stream it cannot take to the scalar reader, or refuses a fault among its indices with the
// scalar reader's words, so a flipped bit or a cut gives the baseline's DecodeError, word for
// word, or the baseline's sums; a refused message leaves the same partial sums behind (the
// indices before the fault added once, however far the vector decode's adds trail it).
TEST(Targets, CorruptSplitRiceDecodesAsTheBaselineOnEveryTarget) {
  const auto targets = every_target();
  RandomStream stream(12, Purpose::kTest, 0, 0, 0);
  std::vector<std::uint32_t> kept;
  for (std::uint32_t i = 0; i < 40'000; ++i) {
    if (stream.uniform() < 0.02) kept.push_back(i);
  }
  // The segment ends at the last index: a corruption that moves any index up moves it out.
  const std::size_t d = kept.back() + 1;
  const std::vector<Segment> segments{{0, d}};
  SparseSegment part{segments[0], kept, {}};
  const std::vector<std::size_t> counts{part.indices.size()};
  const auto x = gaussian_vector<float>(d, 5);
  std::vector<std::uint8_t> bytes;
  write_sparse_indices(bytes, std::span<const SparseSegment>(&part, 1), IndexChoice::kAuto);
  const std::size_t index_bytes = bytes.size();
  write_sparse_values<float>(bytes, std::span<const float>(x),
                             std::span<const SparseSegment>(&part, 1), ValueFormat::kFp32);
  ASSERT_EQ(bytes[0] & 0xC0U, 0xC0U);
  const auto outcome = [&](const std::vector<std::uint8_t>& message,
                           std::span<const Segment> declared) {
    std::vector<float> out(d, 1.0F);
    ByteReader reader(message);
    try {
      read_sparse_add(reader, declared, counts, ValueFormat::kFp32, std::span<float>(out), 0.5F);
    } catch (const DecodeError& error) {
      const auto bits = bits_of(out);
      return "refused: " + std::string(error.what()) + " | " +
             std::string(bits.begin(), bits.end());
    }
    const auto bits = bits_of(out);
    return std::string(bits.begin(), bits.end());
  };
  std::size_t refused = 0;
  for (std::size_t trial = 0; trial < 300; ++trial) {
    std::vector<std::uint8_t> message = bytes;
    if (trial % 10 == 9) {
      message.resize(1 + stream.below(index_bytes - 1));  // cut inside the indices
    } else {
      const std::size_t bit = 8 + stream.below(8 * (index_bytes - 1));  // past the tag
      message[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    }
    std::string expected;
    {
      const ForcedTarget forced(targets.back());
      expected = outcome(message, segments);
    }
    if (expected.starts_with("refused: ")) ++refused;
    for (const std::int64_t target : targets) {
      const ForcedTarget forced(target);
      EXPECT_EQ(outcome(message, segments), expected)
          << hwy::TargetName(target) << ", trial " << trial;
    }
  }
  EXPECT_GT(refused, 30U);  // the corruptions reach the decoders' checks
  // The whole message, read as a segment that ends before index `fault`: refused there, after
  // the same adds as the baseline's. The vector decode finds each fault in one of its blocks
  // (the first, before any add; or with the adds trailing it, after 150, 400 or all but the
  // last 20 indices) and hands the block to its scalar end, which names the fault.
  for (const std::size_t fault :
       {std::size_t{3}, std::size_t{150}, std::size_t{400}, kept.size() - 20}) {
    const std::vector<Segment> shorter{{0, kept[fault]}};
    std::string expected;
    {
      const ForcedTarget forced(targets.back());
      expected = outcome(bytes, shorter);
    }
    EXPECT_TRUE(expected.starts_with("refused: message corrupt: "))
        << expected.substr(0, 80) << ", fault " << fault;
    for (const std::int64_t target : targets) {
      const ForcedTarget forced(target);
      EXPECT_EQ(outcome(bytes, shorter), expected)
          << hwy::TargetName(target) << ", fault " << fault;
    }
  }
}

TEST(Targets, SelectionAndFinitenessKernelsAgreeOnEveryTarget) {
  const auto targets = every_target();
  for (const std::size_t d : {100, 70'001, 200'000}) {
    auto x = gaussian_vector<float>(d, 3);
    for (std::size_t i = 0; i < d; i += 97) x[i] = x[i - i % 2];  // ties
    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, d / 1000, d / 100, d / 10, d}) {
      std::vector<std::uint32_t> expected;
      std::vector<float> expected_values;
      {
        const ForcedTarget forced(targets.back());
        ASSERT_TRUE(select_top_k(std::span<const float>(x), k, 9, expected, &expected_values));
      }
      for (const std::int64_t target : targets) {
        const ForcedTarget forced(target);
        std::vector<std::uint32_t> indices;
        std::vector<float> values;
        ASSERT_TRUE(select_top_k(std::span<const float>(x), k, 9, indices, &values));
        EXPECT_EQ(indices, expected) << hwy::TargetName(target) << ", d = " << d << ", k = " << k;
        EXPECT_EQ(values, expected_values) << hwy::TargetName(target);
      }
    }
    for (const std::size_t bad : {std::size_t{0}, d / 2, d - 1}) {
      auto y = x;
      y[bad] = std::numeric_limits<float>::infinity();
      for (const std::int64_t target : targets) {
        const ForcedTarget forced(target);
        EXPECT_EQ(first_non_finite(std::span<const float>(y)), bad) << hwy::TargetName(target);
        std::vector<std::uint32_t> indices;
        EXPECT_FALSE(select_top_k(std::span<const float>(y), d / 100, 9, indices))
            << hwy::TargetName(target);
      }
    }
  }
}

TEST(Targets, ForcingATargetRunsItsKernels) {
  for (const std::int64_t target : every_target()) {
    const ForcedTarget forced(target);
    EXPECT_STREQ(simd_target(), hwy::TargetName(target));
  }
  EXPECT_STREQ(simd_target(), hwy::TargetName(every_target().front()));
}

// A portable build (no -march) must offer more than its baseline, or it would run scalar code on
// every CPU. Any x86-64 CPU this suite runs on has at least SSE4.
TEST(Targets, APortableBuildDispatchesToVectorTargets) {
#if HWY_ARCH_X86 && (HWY_STATIC_TARGET == HWY_SCALAR || HWY_STATIC_TARGET == HWY_EMU128)
  const auto targets = every_target();
  ASSERT_GE(targets.size(), 2U);
  EXPECT_NE(targets.front(), HWY_STATIC_TARGET);
  std::string names;
  for (const auto t : targets) names += std::string(hwy::TargetName(t)) + " ";
  std::printf("targets on this CPU: %s\n", names.c_str());
#else
  GTEST_SKIP() << "a -march build compiles only its own target";
#endif
}

}  // namespace
}  // namespace gradcomp
