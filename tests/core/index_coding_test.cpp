#include "gradcomp/core/index_coding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "every_target.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/core/rice_kernels.hpp"

namespace gradcomp {
namespace {

std::vector<std::uint32_t> random_support(std::size_t n, std::size_t k, std::uint64_t seed) {
  RandomStream stream(seed, Purpose::kTest, 0, 0, 0);
  std::set<std::uint32_t> chosen;
  while (chosen.size() < k) chosen.insert(static_cast<std::uint32_t>(stream.below(n)));
  return {chosen.begin(), chosen.end()};
}

std::vector<std::uint32_t> round_trip(const std::vector<std::uint32_t>& idx, std::size_t n,
                                      IndexChoice choice, IndexPlan* plan_out) {
  const IndexPlan plan = plan_indices(idx, n, choice);
  std::vector<std::uint8_t> bytes;
  {
    BitWriter writer(bytes);
    writer.write(plan.tag(), 8);
    write_indices(writer, idx, n, plan);
  }
  EXPECT_EQ(bytes.size(), (8 + plan.bits + 7) / 8);  // the plan's size is the real size
  BitReader reader(bytes);
  const auto tag = static_cast<std::uint8_t>(reader.read(8));
  std::vector<std::uint32_t> out;
  read_indices(reader, tag, idx.size(), n, out);
  if (plan_out != nullptr) *plan_out = plan;
  return out;
}

TEST(IndexCoding, BitsForIndex) {
  EXPECT_EQ(bits_for_index(0), 0U);
  EXPECT_EQ(bits_for_index(1), 0U);
  EXPECT_EQ(bits_for_index(2), 1U);
  EXPECT_EQ(bits_for_index(1024), 10U);
  EXPECT_EQ(bits_for_index(1025), 11U);
  EXPECT_EQ(bits_for_index(25'000'000), 25U);
}

TEST(IndexCoding, EveryCodeRoundTripsAndAutoPicksTheSmaller) {
  for (std::size_t n : {1U, 2U, 17U, 1000U, 100000U}) {
    for (double density : {0.0, 0.001, 0.01, 0.1, 0.5, 1.0}) {
      const std::size_t k = static_cast<std::size_t>(density * static_cast<double>(n));
      const auto idx = random_support(n, k, n + k);
      IndexPlan fixed, rice, best;
      EXPECT_EQ(round_trip(idx, n, IndexChoice::kFixed, &fixed), idx);
      EXPECT_EQ(round_trip(idx, n, IndexChoice::kRice, &rice), idx);
      EXPECT_EQ(round_trip(idx, n, IndexChoice::kAuto, &best), idx);
      EXPECT_EQ(fixed.bits, k * bits_for_index(n));
      // auto: the smaller of fixed and Rice, where Rice's b = 0 (the bitmap) replaces a smallest
      // b ≥ 1 when it takes at most 1/8 more bits (b = 0 is among the b's tried only where the
      // first guess is 0 or 1, mean gap below 4/ln 2).
      const double mean_gap =
          static_cast<double>(n) / static_cast<double>(std::max<std::size_t>(k, 1));
      const std::uint64_t bitmap = rice_sizes(idx, 0)[0];
      const bool bitmap_tried = k > 0 && mean_gap * 0.6931 < 4.0;
      const std::uint64_t rice_auto =
          bitmap_tried && bitmap - rice.bits <= rice.bits / kBitmapSlack ? bitmap : rice.bits;
      EXPECT_EQ(best.bits, std::min(fixed.bits, rice_auto)) << n << ", " << density;
    }
  }
}

TEST(IndexCoding, AutoTakesTheBitmapFromAboutThirtyPercent) {
  // d = 100,000, random supports. b = 0 is the smallest from about 38%; auto takes it while it is
  // at most 1/8 larger than the best b; rice keeps the smallest.
  for (const auto& [density, bitmap] : {std::pair{0.45, true}, std::pair{0.32, true},
                                        std::pair{0.25, false}, std::pair{0.1, false}}) {
    const auto k = static_cast<std::size_t>(density * 100'000);
    const auto idx = random_support(100'000, k, 3);
    IndexPlan rice, best;
    EXPECT_EQ(round_trip(idx, 100'000, IndexChoice::kRice, &rice), idx);
    EXPECT_EQ(round_trip(idx, 100'000, IndexChoice::kAuto, &best), idx);
    EXPECT_TRUE(best.rice);
    EXPECT_EQ(best.rice_bits == 0, bitmap) << density;
    EXPECT_EQ(best.tag() == kBitmapTag, bitmap) << density;
    if (density == 0.32) {
      EXPECT_EQ(rice.rice_bits, 1U);  // b = 1 is smaller there, by 5–10%
      EXPECT_GT(best.bits, rice.bits);
      EXPECT_LE(best.bits, rice.bits + rice.bits / 8);
    }
  }
}

TEST(IndexCoding, RiceBeatsFixedOnSparseRandomSupports) {
  // d = 1M at 0.1% density: fixed needs 20 bits per index, rice about log2(1000) + 1.5.
  const auto idx = random_support(1'000'000, 1000, 7);
  const IndexPlan plan = plan_indices(idx, 1'000'000, IndexChoice::kAuto);
  EXPECT_TRUE(plan.rice);
  EXPECT_LT(static_cast<double>(plan.bits) / 1000.0, 12.5);
}

TEST(IndexCoding, RicePlanCountsShiftsOfThirtyTwoAndMoreAsZero) {
  // One index near 2^32 in the largest segment: b is tried at 30, 31 and 32 (4294967290 >> 32 =
  // 0). Sizes q + 1 + b: 3 + 31 = 34, 1 + 32 = 33, 0 + 33 = 33; the first smallest wins.
  const std::vector<std::uint32_t> one = {4'294'967'290U};
  const IndexPlan plan = plan_indices(one, 4'294'967'295U, IndexChoice::kRice);
  EXPECT_TRUE(plan.rice);
  EXPECT_EQ(plan.rice_bits, 31U);
  EXPECT_EQ(plan.bits, 33U);
  // And the code round-trips.
  std::vector<std::uint8_t> bytes;
  {
    BitWriter writer(bytes);
    write_indices(writer, one, 4'294'967'295U, plan);
  }
  BitReader reader(bytes);
  std::vector<std::uint32_t> out;
  read_indices(reader, plan.tag(), 1, 4'294'967'295U, out);
  EXPECT_EQ(out, one);
}

TEST(IndexCoding, RiceRoundTripsAtEveryParameterWithMixedGapLengths) {
  // The reader takes several code words from one 8-byte top-up: short and long code words mixed
  // (most quotients 0 or 1, some up to 90 ones: longer than a whole window) make some not fit in
  // what a top-up left, at every b, and a message may end at any bit.
  for (unsigned b = 0; b <= 24; ++b) {
    RandomStream stream(b, Purpose::kTest, 0, 0, 0);
    std::vector<std::uint32_t> idx;
    std::uint64_t next = 0;
    // As many indices as keep the last below 2^31 (a gap is below 91·2^b).
    const std::size_t total = std::min<std::size_t>(3000, (std::size_t{1} << 31) >> (b + 7));
    for (std::size_t k = 0; k < total; ++k) {
      const std::uint64_t draw = stream.below(100);
      const std::uint64_t quotient = draw < 70 ? 0 : draw < 95 ? stream.below(4) : stream.below(91);
      next += (quotient << b) + stream.below(std::uint64_t{1} << b);
      idx.push_back(static_cast<std::uint32_t>(next));
      next += 1;
    }
    const std::size_t n = next;
    for (const std::size_t wanted : {idx.size(), std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
      const std::size_t count = std::min(wanted, idx.size());
      const std::vector<std::uint32_t> part(idx.begin(),
                                            idx.begin() + static_cast<std::ptrdiff_t>(count));
      const IndexPlan plan{true, b, 0};
      std::vector<std::uint8_t> bytes;
      {
        BitWriter writer(bytes);
        write_indices(writer, part, n, plan);
      }
      BitReader reader(bytes);
      std::vector<std::uint32_t> out;
      read_indices(reader, plan.tag(), part.size(), n, out);
      EXPECT_EQ(out, part) << "b = " << b << ", " << count << " indices";
      // The messages' writer (a fixed buffer, fields of at most 56 bits after at most 7 held)
      // writes the same bytes.
      std::vector<std::uint8_t> presized(bytes.size() + 8);
      PresizedBitWriter fixed(presized.data());
      write_indices(fixed, part, n, plan);
      EXPECT_EQ(fixed.bytes(), bytes.size()) << "b = " << b;
      presized.resize(bytes.size());
      EXPECT_EQ(presized, bytes) << "b = " << b << ", " << count << " indices";
    }
  }
}

// The Rice code as docs/wire-format.md states it, one bit at a time: gap >> b ones, a zero, then
// the b low bits, lowest first.
void write_rice_bit_by_bit(BitWriter& writer, std::uint64_t gap, unsigned b) {
  for (std::uint64_t q = gap >> b; q > 0; --q) writer.write(1, 1);
  writer.write(0, 1);
  for (unsigned bit = 0; bit < b; ++bit) writer.write((gap >> bit) & 1U, 1);
}

// Gaps whose quotients are mostly 0–3 (the usual groups, joined) with some up to 60 (groups past
// 56 bits, written word by word), for parameter b. The mean gap is below 5·2^b.
std::vector<std::uint64_t> mixed_gaps(std::size_t count, unsigned b, std::uint64_t seed) {
  RandomStream stream(seed, Purpose::kTest, 0, 0, 0);
  std::vector<std::uint64_t> gaps(count);
  for (auto& gap : gaps) {
    const std::uint64_t draw = stream.below(10);
    const std::uint64_t quotient = draw < 6 ? 0 : draw < 9 ? 1 + stream.below(3) : stream.below(61);
    gap = (quotient << b) + stream.below(std::uint64_t{1} << b);
  }
  return gaps;
}

// The first 64 bits of a bit stream (bit i in byte i/8; zeros past its end) as a word.
std::uint64_t first_word(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t word = 0;
  for (std::size_t byte = 0; byte < std::min<std::size_t>(8, bytes.size()); ++byte)
    word |= std::uint64_t{bytes[byte]} << (8 * byte);
  return word;
}

// join_rice_groups, on every instruction set: each group's length is Σ (q + 1 + b) of its indices'
// gaps, and a group of at most 56 bits is its four words as written bit by bit (group counts cover
// the vector loop of every width, its remainder, and none).
TEST(IndexCoding, RiceGroupsAreTheirFourWordsOnEveryTarget) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (unsigned b = 0; b <= 13; ++b) {
      for (const std::size_t groups : {0UL, 1UL, 3UL, 8UL, 17UL, 64UL}) {
        const std::vector<std::uint64_t> gaps =
            mixed_gaps(4 * groups, b, std::uint64_t{100} * b + groups);
        // The indices, after the 0xFFFFFFFF the kernel reads before a segment's first.
        std::vector<std::uint32_t> sorted{~0U};
        for (const std::uint64_t gap : gaps)
          sorted.push_back(static_cast<std::uint32_t>(sorted.back() + 1 + gap));
        std::vector<std::uint64_t> codes(groups + 1, 7), lengths(groups + 1, 7);
        join_rice_groups(sorted.data() + 1, groups, b, b, codes.data(), lengths.data());
        std::size_t joined = 0;
        for (std::size_t k = 0; k < groups; ++k) {
          std::vector<std::uint8_t> bytes;
          std::uint64_t length = 0;
          {
            BitWriter writer(bytes);
            for (std::size_t m = 4 * k; m < 4 * k + 4; ++m) {
              write_rice_bit_by_bit(writer, gaps[m], b);
              length += (gaps[m] >> b) + 1 + b;
            }
          }
          ASSERT_EQ(lengths[k], length) << "b = " << b << ", group " << k;
          if (length > kJoinedRiceBits) continue;
          ++joined;
          EXPECT_EQ(codes[k], first_word(bytes))
              << "b = " << b << ", group " << k << ", target " << target;
        }
        EXPECT_EQ(codes[groups], 7U);  // nothing written past the last group
        EXPECT_EQ(lengths[groups], 7U);
        if (groups == 64) {  // both kinds of group are tried
          EXPECT_GT(joined, 0U) << "b = " << b;
          EXPECT_LT(joined, groups) << "b = " << b;
        }
      }
    }
  }
}

// split_rice_steps, on every instruction set and b = 0 … 14: each step's b bytes are its eight
// remainders written bit by bit, its length is Σ (q + 1) (64 for a quotient over 31), and a step
// of at most 56 bits has its eight unary words as written bit by bit (step counts cover the
// vector loop of every width, its remainder, and none).
TEST(IndexCoding, SplitStepsAreTheirRemaindersAndUnaryWordsOnEveryTarget) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (unsigned b = 0; b <= kJoinedRemainderBits; ++b) {
      for (const std::size_t steps : {0UL, 1UL, 3UL, 4UL, 5UL, 9UL, 32UL}) {
        std::vector<std::uint64_t> gaps = mixed_gaps(8 * steps, b, std::uint64_t{31} * b + steps);
        if (steps >= 3) {  // a step of 47 bits whose one long quotient leaves a 32-bit lane
          std::fill_n(gaps.begin() + 8, 8, 0);
          gaps[13] = std::uint64_t{40} << b;
        }
        std::vector<std::uint32_t> sorted{~0U};
        for (const std::uint64_t gap : gaps)
          sorted.push_back(static_cast<std::uint32_t>(sorted.back() + 1 + gap));
        std::vector<std::uint8_t> remainders(b * steps + 16, 0xCD);
        std::vector<std::uint64_t> codes(steps + 1, 7), lengths(steps + 1, 7);
        split_rice_steps(sorted.data() + 1, steps, b, remainders.data(), codes.data(),
                         lengths.data());
        std::size_t joined = 0;
        for (std::size_t s = 0; s < steps; ++s) {
          std::vector<std::uint8_t> low_bytes;
          std::vector<std::uint8_t> unary_bytes;
          std::uint64_t length = 0;
          {
            BitWriter low(low_bytes);
            BitWriter unary(unary_bytes);
            for (std::size_t m = 8 * s; m < 8 * s + 8; ++m) {
              low.write(gaps[m] & BitWriter::mask(b), b);
              const std::uint64_t quotient = gaps[m] >> b;
              for (std::uint64_t one = 0; one < quotient; ++one) unary.write(1, 1);
              unary.write(0, 1);
              length += quotient > 31 ? 64 : quotient + 1;
            }
          }
          const auto at = static_cast<std::ptrdiff_t>(b * s);
          EXPECT_TRUE(std::equal(low_bytes.begin(), low_bytes.end(), remainders.begin() + at))
              << "b = " << b << ", step " << s << ", target " << target;
          ASSERT_EQ(lengths[s], length) << "b = " << b << ", step " << s << ", target " << target;
          if (length > kJoinedRiceBits) continue;
          ++joined;
          EXPECT_EQ(codes[s], first_word(unary_bytes))
              << "b = " << b << ", step " << s << ", target " << target;
        }
        EXPECT_EQ(codes[steps], 7U);  // nothing written past the last step
        EXPECT_EQ(lengths[steps], 7U);
        if (steps >= 3) {
          EXPECT_EQ(lengths[1], 64U + 7U);
        }
        if (steps == 32) {  // both kinds of step are tried
          EXPECT_GT(joined, 0U) << "b = " << b;
          EXPECT_LT(joined, steps) << "b = " << b;
        }
      }
    }
  }
}

// write_indices' bytes are the code written bit by bit, with either writer, on every instruction
// set, at counts around its chunks of 256 indices and with tails of 0–3 indices after the groups.
TEST(IndexCoding, RiceIndicesAreTheCodeWrittenBitByBitAtEveryChunkBoundary) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (const unsigned b : {0U, 1U, 4U, 9U, 13U, 14U, 16U}) {  // 1,031 gaps sum below 2^32
      for (const std::size_t count :
           {0UL, 1UL, 3UL, 4UL, 7UL, 255UL, 256UL, 257UL, 259UL, 260UL, 513UL, 1031UL}) {
        const std::vector<std::uint64_t> gaps = mixed_gaps(count, b, std::uint64_t{7} * b + count);
        std::vector<std::uint32_t> sorted;
        std::uint64_t next = 0;
        std::vector<std::uint8_t> expected;
        {
          BitWriter reference(expected);
          for (const std::uint64_t gap : gaps) {
            sorted.push_back(static_cast<std::uint32_t>(next + gap));
            next += gap + 1;
            write_rice_bit_by_bit(reference, gap, b);
          }
        }
        const IndexPlan plan{true, b, 0};
        std::vector<std::uint8_t> bytes;
        {
          BitWriter writer(bytes);
          write_indices(writer, sorted, next, plan);
        }
        EXPECT_EQ(bytes, expected) << "b = " << b << ", " << count << " indices";
        std::vector<std::uint8_t> presized(expected.size() + 8);
        PresizedBitWriter fixed(presized.data());
        write_indices(fixed, sorted, next, plan);
        EXPECT_EQ(fixed.bytes(), expected.size());
        presized.resize(expected.size());
        EXPECT_EQ(presized, expected)
            << "b = " << b << ", " << count << " indices, target " << target;
      }
    }
  }
}

// Rice with b = 0 written from the support's bitmap (write_indices' `support`, which the
// hard-threshold compressor makes in passing) is the code written from the indices, bit for bit:
// segments around the 56-bit writes and the 64-bit words, the last kept coordinate anywhere (or
// none), and the code starting at every bit offset of the writer.
TEST(IndexCoding, TheBitmapCodeFromTheSupportIsTheCodeFromTheIndices) {
  std::uint64_t seed = 1;
  for (const std::size_t n :
       {1UL, 7UL, 8UL, 55UL, 56UL, 57UL, 63UL, 64UL, 65UL, 112UL, 113UL, 1000UL, 4099UL}) {
    for (const double density : {0.0, 0.05, 0.32, 0.9, 1.0}) {
      RandomStream stream(++seed, Purpose::kTest, 0, 0, 0);
      std::vector<std::uint32_t> sorted;
      std::vector<std::uint8_t> support((n + 7) / 8, 0);
      for (std::size_t i = 0; i < n; ++i) {
        if (density < 1.0 && stream.uniform() >= density) continue;
        sorted.push_back(static_cast<std::uint32_t>(i));
        support[i / 8] = static_cast<std::uint8_t>(support[i / 8] | (1U << (i % 8)));
      }
      const IndexPlan plan{true, 0, sorted.empty() ? 0 : std::uint64_t{sorted.back()} + 1};
      for (unsigned offset = 0; offset < 8; ++offset) {
        std::vector<std::uint8_t> from_indices;
        std::vector<std::uint8_t> from_support;
        {
          BitWriter writer(from_indices);
          writer.write(0x5A, offset);
          write_indices(writer, sorted, n, plan);
        }
        {
          BitWriter writer(from_support);
          writer.write(0x5A, offset);
          write_indices(writer, sorted, n, plan, support);
        }
        EXPECT_EQ(from_support, from_indices)
            << "n = " << n << ", density " << density << ", offset " << offset;
        std::vector<std::uint8_t> presized(from_indices.size() + 8);
        PresizedBitWriter fixed(presized.data());
        fixed.write(0x5A & ((1U << offset) - 1U), offset);
        write_indices(fixed, sorted, n, plan, support);
        EXPECT_EQ(fixed.bytes(), from_indices.size());
        presized.resize(from_indices.size());
        EXPECT_EQ(presized, from_indices) << "presized, n = " << n << ", density " << density;
      }
    }
  }
}

// Split Rice (tag 0xC0 | b): every gap's b low bits, lowest first, then every quotient as that
// many ones and a zero — written bit by bit here — in exactly Rice's number of bits; and it
// reads back, after other bits in the stream and with more after it.
TEST(IndexCoding, SplitRiceIsTheRemaindersThenTheQuotientsAndReadsBack) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (const unsigned b : {1U, 2U, 5U, 7U, 8U, 9U, 14U, 15U, 20U, 40U}) {
      for (const std::size_t count : {1UL, 3UL, 4UL, 8UL, 57UL, 1031UL, 4099UL}) {
        const std::vector<std::uint64_t> gaps = mixed_gaps(count, b, std::uint64_t{13} * b + count);
        std::vector<std::uint32_t> sorted;
        std::uint64_t next = 0;
        std::uint64_t rice_bits = 0;
        for (const std::uint64_t gap : gaps) {
          sorted.push_back(static_cast<std::uint32_t>(next + gap));
          next += gap + 1;
          rice_bits += (gap >> b) + 1 + b;
        }
        if (next > std::uint64_t{1} << 32) continue;  // indices are 32-bit
        std::vector<std::uint8_t> expected;
        {
          BitWriter reference(expected);
          reference.write(0x2D, 7);  // what comes before in the stream
          for (const std::uint64_t gap : gaps) {
            for (unsigned bit = 0; bit < b; ++bit) reference.write((gap >> bit) & 1U, 1);
          }
          for (const std::uint64_t gap : gaps) {
            for (std::uint64_t q = gap >> b; q > 0; --q) reference.write(1, 1);
            reference.write(0, 1);
          }
          reference.write(0x55, 8);  // and after
        }
        const IndexPlan plan{true, b, rice_bits, true};
        ASSERT_EQ(plan.tag(), 0xC0 | b);
        std::vector<std::uint8_t> bytes;
        {
          BitWriter writer(bytes);
          writer.write(0x2D, 7);
          write_indices(writer, sorted, next, plan);
          writer.write(0x55, 8);
        }
        EXPECT_EQ(bytes, expected) << "b = " << b << ", " << count << " indices";
        EXPECT_EQ(bytes.size(), (7 + rice_bits + 8 + 7) / 8);
        std::vector<std::uint8_t> presized((7 + rice_bits + 8 + 7) / 8 + 8);
        PresizedBitWriter fixed(presized.data());
        fixed.write(0x2D, 7);
        write_indices(fixed, sorted, next, plan);
        fixed.write(0x55, 8);
        presized.resize(fixed.bytes());
        EXPECT_EQ(presized, expected)
            << "b = " << b << ", " << count << " indices, target " << target;
        BitReader reader(bytes);
        EXPECT_EQ(reader.read(7), 0x2DU);
        std::vector<std::uint32_t> out;
        read_indices(reader, plan.tag(), count, next, out);
        EXPECT_EQ(out, sorted) << "b = " << b << ", " << count << " indices";
        EXPECT_EQ(reader.read(8), 0x55U) << "the reader ends where the quotients end";
      }
    }
  }
}

// auto lays Rice of b ≥ 1 out split from 192 indices in a segment (where a split message's
// encode and decode together became the cheaper, docs/benchmarks.md), interleaved below that;
// `rice` never splits. Either way the plan's size is Rice's own.
TEST(IndexCoding, AutoSplitsRiceFromOneHundredNinetyTwoIndices) {
  ASSERT_EQ(kSplitMinimum, 192U);
  for (const std::size_t count : {1UL, 100UL, 191UL, 192UL, 193UL, 1000UL}) {
    const std::size_t segment = count * 80;  // 1.25%: b = 5 or 6
    const std::vector<std::uint32_t> support = random_support(segment, count, count);
    const IndexPlan automatic = plan_indices(support, segment, IndexChoice::kAuto);
    const IndexPlan rice = plan_indices(support, segment, IndexChoice::kRice);
    ASSERT_TRUE(automatic.rice);
    EXPECT_GE(automatic.rice_bits, 1U) << count << " indices";
    EXPECT_EQ(automatic.split, count >= 192) << count << " indices";
    EXPECT_FALSE(rice.split) << count << " indices";
    EXPECT_EQ(automatic.bits, rice.bits) << count << " indices";
    EXPECT_EQ(automatic.tag(), (count >= 192 ? 0xC0 : 0x80) | automatic.rice_bits);
    IndexPlan plan;
    EXPECT_EQ(round_trip(support, segment, IndexChoice::kAuto, &plan), support);
  }
}

// A split stream that is cut short, names an index at or past the segment's end, or comes with
// a tag that cannot be split (not Rice, or b = 0) is refused with DecodeError.
TEST(IndexCoding, SplitRiceRefusesTruncatedOrOutOfRangeStreamsAndBadTags) {
  const unsigned b = 4;
  const auto sorted = random_support(1000, 60, 5);
  const IndexPlan plan = [&] {
    IndexPlan rice = plan_indices(sorted, 1000, IndexChoice::kRice);
    rice.rice_bits = b;
    rice.split = true;
    return rice;
  }();
  std::vector<std::uint8_t> bytes;
  {
    BitWriter writer(bytes);
    write_indices(writer, sorted, 1000, plan);
  }
  std::vector<std::uint32_t> out;
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(size));
    BitReader reader(cut);
    EXPECT_THROW(read_indices(reader, 0xC0 | b, sorted.size(), 1000, out), DecodeError) << size;
  }
  BitReader short_segment(bytes);
  try {
    read_indices(short_segment, 0xC0 | b, sorted.size(), sorted.back(), out);
    ADD_FAILURE() << "an index at the segment's end was read";
  } catch (const DecodeError& error) {
    EXPECT_EQ(std::string(error.what()),
              fmt::format("message corrupt: index {} outside a segment of {}", sorted.back(),
                          sorted.back()));
  }
  for (const std::uint8_t tag : {std::uint8_t{0x40}, std::uint8_t{0x44}, std::uint8_t{0xC0}}) {
    BitReader reader(bytes);
    try {
      read_indices(reader, tag, sorted.size(), 1000, out);
      ADD_FAILURE() << "tag " << int{tag} << " was read";
    } catch (const DecodeError& error) {
      EXPECT_EQ(std::string(error.what()),
                fmt::format("message corrupt: index coding tag {:#04x} is not valid", tag));
    }
  }
}

// rice_sizes, on every instruction set, against Σ (gap >> b) + 1 + b summed in 64 bits, for b
// from 0 to past 32 (where every quotient is 0) and supports up to the largest segment.
TEST(IndexCoding, RiceSizesAreTheCodeWordsLengthsOnEveryTarget) {
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (const std::size_t count : {1UL, 5UL, 100UL, 1001UL}) {
      for (const std::uint64_t n : {std::uint64_t{1} << 20, std::uint64_t{4'294'967'295U}}) {
        const auto sorted = random_support(n, count, count + n);
        for (const unsigned first : {0U, 1U, 5U, 12U, 30U, 31U, 38U}) {
          const auto sizes = rice_sizes(sorted, first);
          for (unsigned j = 0; j < 3; ++j) {
            const unsigned b = first + j;
            std::uint64_t expected = 0;
            std::uint64_t previous_end = 0;
            for (const std::uint32_t index : sorted) {
              const std::uint64_t gap = index - previous_end;
              expected += (b >= 64 ? 0 : gap >> b) + 1 + b;
              previous_end = std::uint64_t{index} + 1;
            }
            EXPECT_EQ(sizes[j], expected) << "b = " << b << ", " << count << " of " << n;
          }
        }
      }
    }
  }
}

TEST(IndexCoding, RejectsIndicesOutOfOrderOrRange) {
  std::vector<std::uint8_t> bytes;
  {
    BitWriter writer(bytes);
    writer.write(5, 4);
    writer.write(3, 4);  // 5 then 3: out of order
  }
  std::vector<std::uint32_t> out;
  BitReader reader(bytes);
  EXPECT_THROW(read_indices(reader, 0x00, 2, 16, out), DecodeError);
  const std::vector<std::uint8_t> thirteen = {13};
  BitReader range(thirteen);
  EXPECT_THROW(read_indices(range, 0x00, 1, 12, out), DecodeError);  // 13 ≥ 12 (4-bit field)
  BitReader bad_tag(bytes);
  EXPECT_THROW(read_indices(bad_tag, 0x41, 1, 16, out), DecodeError);  // split, but not Rice
  BitReader too_many(bytes);
  EXPECT_THROW(read_indices(too_many, 0x00, 17, 16, out), DecodeError);
}

// A Rice-coded index at or past the segment's end is refused wherever it falls: after a long
// run of good ones (read a window at a time without a check per index, see read_rice_words), at
// the very first index, and as a jump far past the end, with more code words after it; the sink
// never sees it.
TEST(IndexCoding, RiceIndicesPastTheSegmentAreRefusedWhereverTheyFall) {
  for (const unsigned b : {0U, 1U, 3U, 8U}) {
    for (const std::size_t good : {0UL, 1UL, 5UL, 3000UL}) {
      for (const std::uint32_t past : {0U, 1U, 100000U}) {
        std::vector<std::uint32_t> sorted;
        for (std::size_t i = 0; i < good; ++i)
          sorted.push_back(static_cast<std::uint32_t>(i * ((1U << b) + 1)));
        const std::uint32_t segment = (sorted.empty() ? 0 : sorted.back()) + 400;  // ≥ the count
        sorted.push_back(segment + past);
        // and more after it: the stream goes on past the bad index (its last 8 bytes are read
        // a code word at a time, with every check)
        for (std::uint32_t i = 1; i <= 300; ++i) sorted.push_back(segment + past + i);
        std::vector<std::uint8_t> bytes;
        {
          BitWriter writer(bytes);
          write_indices(writer, sorted, std::size_t{segment} + past + 301, IndexPlan{true, b, 0});
        }
        BitReader reader(bytes);
        std::uint64_t largest_seen = 0;
        std::size_t seen = 0;
        try {
          for_each_index(reader, IndexPlan{true, b, 0}.tag(), sorted.size(), segment,
                         [&](std::size_t, std::uint64_t index) {
                           largest_seen = std::max(largest_seen, index);
                           ++seen;
                         });
          ADD_FAILURE() << "b = " << b << ", " << good << " good: no error";
        } catch (const DecodeError& e) {
          // A quotient above what the segment allows is refused before its low bits are read.
          const std::string outside = "message corrupt: index " + std::to_string(segment + past) +
                                      " outside a segment of " + std::to_string(segment);
          const std::string too_long =
              "message corrupt: unary run longer than " + std::to_string(segment >> b);
          EXPECT_TRUE(e.what() == outside || e.what() == too_long)
              << e.what() << " (b = " << b << ", " << good << " good)";
        }
        EXPECT_EQ(seen, good) << "b = " << b;
        EXPECT_LT(largest_seen, segment) << "b = " << b;
      }
    }
  }
}

}  // namespace
}  // namespace gradcomp
