#include "gradcomp/core/index_coding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "gradcomp/core/random.hpp"

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
      EXPECT_EQ(best.bits, std::min(fixed.bits, rice.bits));
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
  EXPECT_THROW(read_indices(bad_tag, 0x41, 1, 16, out), DecodeError);
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
