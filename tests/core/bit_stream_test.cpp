#include "gradcomp/core/bit_stream.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "every_target.hpp"
#include "gradcomp/core/packed.hpp"
#include "gradcomp/core/random.hpp"
#include "gradcomp/core/shifted_copy.hpp"

namespace gradcomp {
namespace {

TEST(BitStream, RoundTripsFieldsOfEveryWidth) {
  std::vector<std::uint8_t> bytes;
  std::vector<std::pair<std::uint64_t, unsigned>> fields;
  RandomStream stream(1, Purpose::kTest, 0, 0, 0);
  {
    BitWriter writer(bytes);
    for (unsigned width = 0; width <= 57; ++width) {
      const std::uint64_t value = stream.next_u64() & BitWriter::mask(width);
      writer.write(value, width);
      fields.emplace_back(value, width);
    }
    writer.write_unary(70);
  }
  std::uint64_t total_bits = 71;
  for (const auto& f : fields) total_bits += f.second;
  EXPECT_EQ(bytes.size(), (total_bits + 7) / 8);
  BitReader reader(bytes);
  for (const auto& [value, width] : fields) EXPECT_EQ(reader.read(width), value) << width;
  EXPECT_EQ(reader.read_unary(100), 70U);
}

TEST(BitStream, PresizedWriterWritesTheBytesOfBitWriter) {
  // 3,000 fields of random widths 0..56 (values filling them), written by both writers.
  std::vector<std::uint8_t> expected;
  std::vector<std::uint8_t> presized(3000 * 7 + 8, 0xAB);  // garbage past the end must not matter
  RandomStream stream(2, Purpose::kTest, 0, 0, 0);
  std::uint64_t bits = 0;
  {
    BitWriter writer(expected);
    PresizedBitWriter fast(presized.data());
    for (int i = 0; i < 3000; ++i) {
      const auto width = static_cast<unsigned>(stream.below(PresizedBitWriter::kMaxWidth + 1));
      const std::uint64_t value = stream.next_u64() & BitWriter::mask(width);
      writer.write(value, width);
      fast.write(value, width);
      bits += width;
    }
    EXPECT_EQ(fast.bytes(), (bits + 7) / 8);
  }
  ASSERT_EQ(expected.size(), (bits + 7) / 8);
  presized.resize(expected.size());
  EXPECT_EQ(presized, expected);
}

// write_words copies whole 64-bit words of a bit stream, each xor the flip, after 0–7 bits already
// written: its bytes are those of the same bits written one by one, it takes only the words
// that are whole in both the stream and the bit count, and a write after it lands right after.
TEST(BitStream, PresizedWriterCopiesWholeWordsAfterAnyBitOffset) {
  RandomStream stream(3, Purpose::kTest, 0, 0, 0);
  std::vector<std::uint8_t> source(200);  // 25 words: the wide copy from 16 words on
  for (auto& byte : source) byte = static_cast<std::uint8_t>(stream.below(256));
  for (const std::uint64_t flip : {std::uint64_t{0}, ~std::uint64_t{0}}) {
    for (unsigned before = 0; before <= 7; ++before) {
      for (const std::uint64_t bits :
           {0UL, 63UL, 64UL, 65UL, 200UL, 320UL, 1023UL, 1024UL, 1600UL}) {
        std::vector<std::uint8_t> copied;    // the bits before and the copy
        std::vector<std::uint8_t> expected;  // and 11 bits after
        for (const bool after : {false, true}) {
          BitWriter writer(after ? expected : copied);
          writer.write(0x5A, before);
          for (std::uint64_t bit = 0; bit < bits; ++bit) {
            writer.write(((source[bit / 8] >> (bit % 8)) ^ flip) & 1U, 1);
          }
          if (after) writer.write(0x3C5, 11);
        }
        std::vector<std::uint8_t> presized(expected.size() + 8, 0xAB);
        PresizedBitWriter fast(presized.data());
        fast.write(0x5A & BitWriter::mask(before), before);
        const std::uint64_t taken = fast.write_words(source, bits, flip);
        EXPECT_EQ(taken, bits / 64 * 64) << bits;
        for (std::uint64_t bit = taken; bit < bits; ++bit) {
          fast.write(((source[bit / 8] >> (bit % 8)) ^ flip) & 1U, 1);
        }
        ASSERT_EQ(fast.bytes(), copied.size());  // the partial last byte is in place too
        EXPECT_TRUE(std::equal(copied.begin(), copied.end(), presized.begin()))
            << before << " bits before, " << bits << " copied";
        fast.write(0x3C5, 11);
        ASSERT_EQ(fast.bytes(), expected.size());
        presized.resize(expected.size());
        EXPECT_EQ(presized, expected) << before << " bits before, " << bits << " copied";
      }
    }
  }
  // Only the words wholly inside the source: 20 bytes hold two.
  std::vector<std::uint8_t> out(240);
  PresizedBitWriter short_source(out.data());
  EXPECT_EQ(short_source.write_words(std::span(source).first(20), 160, 0), 128U);
  EXPECT_EQ(short_source.bytes(), 16U);
}

// The wide copy on every instruction set: word w of the output is word w of the source xor flip,
// shifted up by `shift` with the previous word's top bits below it (`below` for the first), and
// the last word's top bits follow; word counts cover the vector loop of every width, its
// remainder, one word and none.
TEST(BitStream, WideShiftedCopyIsTheWordByWordCopyOnEveryTarget) {
  RandomStream stream(5, Purpose::kTest, 0, 0, 0);
  std::vector<std::uint64_t> source(40);
  for (auto& word : source) word = stream.next_u64();
  std::vector<std::uint8_t> source_bytes(8 * source.size());
  std::memcpy(source_bytes.data(), source.data(), source_bytes.size());
  for (const std::int64_t target : testing::every_target()) {
    const testing::ForcedTarget forced(target);
    for (const std::uint64_t flip : {std::uint64_t{0}, ~std::uint64_t{0}}) {
      for (unsigned shift = 0; shift <= 7; ++shift) {
        for (const std::size_t words : {0UL, 1UL, 2UL, 7UL, 8UL, 9UL, 17UL, 33UL}) {
          const std::uint64_t below = 0x55U & BitWriter::mask(shift);
          std::vector<std::uint64_t> expected(words + 2, 0x0123456789ABCDEFU);
          std::uint64_t carried = below;
          for (std::size_t w = 0; w < words; ++w) {
            const std::uint64_t word = source[w] ^ flip;
            expected[w] = carried | (word << shift);
            carried = shift == 0 ? 0 : word >> (64 - shift);
          }
          expected[words] = carried;
          std::vector<std::uint64_t> copied(words + 2, 0x0123456789ABCDEFU);
          const std::uint64_t returned =
              copy_shifted_words_wide(reinterpret_cast<std::uint8_t*>(copied.data()),
                                      source_bytes.data(), words, shift, below, flip);
          EXPECT_EQ(returned, carried) << words << " words, shift " << shift;
          EXPECT_EQ(copied, expected)
              << words << " words, shift " << shift << ", target " << target;
        }
      }
    }
  }
}

TEST(BitStream, ReadingPastTheEndThrowsDecodeError) {
  const std::vector<std::uint8_t> bytes = {0xFF};
  BitReader reader(bytes);
  EXPECT_EQ(reader.read(5), 31U);
  EXPECT_THROW(reader.read(4), DecodeError);
}

TEST(BitStream, UnaryRunLongerThanLimitIsRejected) {
  const std::vector<std::uint8_t> bytes = {0xFF, 0xFF};
  BitReader reader(bytes);
  EXPECT_THROW(reader.read_unary(10), DecodeError);
}

TEST(ByteReader, VarintRoundTripAndTruncation) {
  std::vector<std::uint8_t> bytes;
  append_varint(bytes, 0);
  append_varint(bytes, 127);
  append_varint(bytes, 128);
  append_varint(bytes, 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(bytes.size(), 1U + 1U + 2U + 10U);
  ByteReader reader(bytes);
  EXPECT_EQ(reader.varint("a"), 0U);
  EXPECT_EQ(reader.varint("b"), 127U);
  EXPECT_EQ(reader.varint("c"), 128U);
  EXPECT_EQ(reader.varint("d"), 0xFFFFFFFFFFFFFFFFULL);
  const std::vector<std::uint8_t> cut = {0x80, 0x80};
  ByteReader truncated(cut);
  EXPECT_THROW(truncated.varint("count"), DecodeError);
}

TEST(Packed, RoundTripsAndHasExactSize) {
  for (unsigned width : {1U, 2U, 3U, 5U, 7U, 13U, 31U, 32U}) {
    for (std::size_t count : {0U, 1U, 7U, 64U, 1001U}) {
      std::vector<std::uint32_t> fields(count);
      RandomStream stream(width, Purpose::kTest, count, 0, 0);
      for (auto& f : fields)
        f = static_cast<std::uint32_t>(stream.next_u32() & BitWriter::mask(width));
      std::vector<std::uint8_t> bytes = {0xAB};
      append_packed(bytes, count, width, [&](std::size_t i) { return fields[i]; });
      ASSERT_EQ(bytes.size(), 1 + (count * width + 7) / 8);
      ByteReader reader(bytes, 1);
      read_packed(reader, count, width, [&](std::size_t i, std::uint32_t f) {
        ASSERT_EQ(f, fields[i]) << "width " << width << " index " << i;
      });
      EXPECT_EQ(reader.remaining(), 0U);
    }
  }
}

}  // namespace
}  // namespace gradcomp
