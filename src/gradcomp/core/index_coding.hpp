#pragma once
// Coding of the sorted coordinate indices of a sparse message (docs/wire-format.md "Indices").
// Two codes, chosen per segment by the encoder and named in one byte of the message:
//   fixed: each index in ⌈log₂ n⌉ bits;
//   rice:  each gap (index − previous index − 1) Golomb–Rice coded with parameter b: the quotient
//          gap >> b in unary, then the b low bits. Near-optimal for the geometric gaps of a random
//          or scattered support: about log₂(1/density) + 1.5 bits per index instead of log₂ n.
// `auto` computes both exact sizes and keeps the smaller one, but takes Rice with b = 0 — the
// support's bitmap, decoded a machine word at a time — while it is at most 1/8 larger than the
// best b (kBitmapSlack); `rice` keeps the smallest b.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/rice_kernels.hpp"

namespace gradcomp {

enum class IndexChoice { kAuto, kFixed, kRice };

constexpr unsigned kMaxRiceBits = 40;  // the largest b a tag may name
// auto takes the bitmap (b = 0) while its indices take at most 1 + 1/kBitmapSlack times the best
// b's bits: from a density of about 30% (at 32%, 9% more index bits, under 1% more message with
// fp32 values) to 38%, where b = 0 is the smallest anyway. Its decode is 2–3× faster there
// (docs/benchmarks.md, "The sparse section per kept element").
constexpr std::uint64_t kBitmapSlack = 8;
constexpr std::uint8_t kBitmapTag = 0x80;  // the tag of Rice with b = 0
// auto lays Rice with b ≥ 1 out split in segments of this many indices or more. The split
// encode costs more, and its vector decode a set-up: at 128 indices one encode and one decode
// together cost as much in either layout, at 192 split was 20–25% cheaper, and both of its
// parts faster (docs/benchmarks.md, "Where split Rice pays").
constexpr std::size_t kSplitMinimum = 192;
IndexChoice parse_index_choice(std::string_view text);

// DecodeError unless a decoded index lies inside its segment: the words of every index reader
// (the scalar ones here, and split Rice's vector decode).
[[gnu::always_inline]] inline void require_index_inside(std::uint64_t index,
                                                        std::size_t segment_size) {
  require<DecodeError>(index < segment_size, "message corrupt: index {} outside a segment of {}",
                       index, segment_size);
}

struct IndexPlan {
  bool rice = false;
  unsigned rice_bits = 0;  // b
  std::uint64_t bits = 0;  // exact size of the coded indices
  // Rice with b ≥ 1 laid out split: every code word's b low bits first, then every quotient in
  // unary (the same bits, so the same size; docs/wire-format.md "Indices").
  bool split = false;
  // One byte on the wire: bit 7 set for rice, bit 6 for split, low 6 bits b.
  [[nodiscard]] std::uint8_t tag() const {
    return static_cast<std::uint8_t>((rice ? 0x80U : 0U) | (split ? 0x40U : 0U) | rice_bits);
  }
};

unsigned bits_for_index(std::size_t segment_size);  // ⌈log₂ n⌉, 0 for n ≤ 1

IndexPlan plan_indices(std::span<const std::uint32_t> sorted, std::size_t segment_size,
                       IndexChoice choice);
// Appends the coded indices to `writer` (a BitWriter or PresizedBitWriter). `support`, when not
// empty, is the same kept set as a bitmap over the segment (bit i of byte i/8 set where i is
// kept; ⌈segment_size/8⌉ bytes): Rice with b = 0 is then written from it, 56 coordinates a write.
template <class Writer>
inline void write_indices(Writer& writer, std::span<const std::uint32_t> sorted,
                          std::size_t segment_size, const IndexPlan& plan,
                          std::span<const std::uint8_t> support = {});
// Reads `count` indices coded with `tag` and hands them to sink(k, index) in order, k = 0, 1, …;
// DecodeError (before the sink sees it) for a bad tag, a count above segment_size, an index out
// of order or not below segment_size. Defined below.
template <class Sink>
void for_each_index(BitReader& reader, std::uint8_t tag, std::size_t count,
                    std::size_t segment_size, Sink&& sink);
// Reads `count` indices coded with `tag`; checks they are strictly increasing and < segment_size.
void read_indices(BitReader& reader, std::uint8_t tag, std::size_t count, std::size_t segment_size,
                  std::vector<std::uint32_t>& out);

namespace detail {

// One Golomb–Rice code word of `gap` with parameter b (q = gap >> b ones, a zero, then the
// `low_bits` low bits: b, or 0 in split Rice's quotients' stream).
template <class Writer>
void write_rice(Writer& writer, std::uint64_t gap, unsigned b, unsigned low_bits) {
  const std::uint64_t quotient = gap >> b;
  const std::uint64_t low = gap & BitWriter::mask(low_bits);
  if (quotient + 1 + low_bits <= 56) [[likely]] {  // the whole code word in one write
    // quotient + 1 ≤ 56 here (the analyzer loses that bound for a 32-bit gap of 2^32 − 1).
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
    writer.write(BitWriter::mask(static_cast<unsigned>(quotient)) | (low << (quotient + 1)),
                 static_cast<unsigned>(quotient + 1 + low_bits));
    return;
  }
  std::uint64_t ones = quotient;  // 32 at a time, then a zero, then the low bits (≤ 40)
  for (; ones >= 32; ones -= 32) writer.write(0xFFFFFFFFULL, 32);
  writer.write(BitWriter::mask(static_cast<unsigned>(ones)), static_cast<unsigned>(ones) + 1);
  if (low_bits != 0) writer.write(low, low_bits);
}

// Indices first .. count − 1 of a Rice-coded segment, the index before them ending at
// previous_end, to sink(k, index).
template <class Sink>
[[gnu::always_inline]] inline void read_rice_indices(BitReader& reader, unsigned b,
                                                     std::size_t first, std::size_t count,
                                                     std::uint64_t previous_end,
                                                     std::size_t segment_size, Sink&& sink) {
  // A gap is below 2^(6 + 40): with previous_end ≤ 2^32 the sums cannot wrap. One top-up's code
  // words advance the index by less than 64·2^b (see read_rice_words): while that stays inside
  // the segment, their indices need no check.
  const std::uint64_t top_up_growth = std::uint64_t{64} << b;
  reader.read_rice_words(
      count - first, b, segment_size >> b,
      [&] { return previous_end + top_up_growth <= segment_size; },
      [&](std::size_t k, std::uint64_t gap) {
        const std::uint64_t index = previous_end + gap;
        sink(first + k, index);
        previous_end = index + 1;
      },
      [&](std::size_t k, std::uint64_t gap) {
        const std::uint64_t index = previous_end + gap;
        require_index_inside(index, segment_size);
        sink(first + k, index);
        previous_end = index + 1;
      });
}

// The set bits of a bitmap word (BitReader::read_bitmap_words) to sink(k, start + bit), in
// order; returns how many.
template <class Sink>
std::size_t visit_bitmap_word(Sink& sink, std::uint64_t start, std::uint64_t kept, std::size_t k) {
  const std::size_t first = k;
  for (; kept != 0; kept &= kept - 1, ++k) {
    sink(k, start + static_cast<unsigned>(std::countr_zero(kept)));
  }
  return k - first;
}

// The indices of b = 0: the bitmap's words first (their coordinates are below start + 56 ≤
// segment_size, so they need no check), to the sink's bitmap_word(start, kept, k) if it has one
// (it returns how many it took), else one by one; then the code words that are left. Not inlined:
// a version inlined into for_each_index decoded every other b 10–30% slower.
template <class Sink>
[[gnu::noinline]] void read_bitmap_indices(BitReader& reader, std::size_t count,
                                           std::size_t segment_size, Sink& sink) {
  std::uint64_t start = 0;
  const std::size_t first = reader.read_bitmap_words(
      count, start, [&](std::uint64_t at) { return at + BitReader::kBitmapWord <= segment_size; },
      [&](std::uint64_t at, std::uint64_t kept, std::size_t k) -> std::size_t {
        if constexpr (requires { sink.bitmap_word(at, kept, k); }) {
          return sink.bitmap_word(at, kept, k);
        } else {
          return visit_bitmap_word(sink, at, kept, k);
        }
      });
  read_rice_indices(reader, 0, first, count, start, segment_size, sink);
}

// Split Rice (tag 0xC0 | b, b ≥ 1): the count remainders of b bits, then the count quotients in
// unary, to sink(k, index). Not inlined, as read_bitmap_indices.
template <class Sink>
[[gnu::noinline]] void read_split_rice_indices(BitReader& reader, unsigned b, std::size_t count,
                                               std::size_t segment_size, Sink& sink) {
  BitReader remainders = reader;  // a second cursor over the same bytes
  reader.skip(std::uint64_t{count} * b);
  const std::uint64_t limit = segment_size >> b;
  std::uint64_t previous_end = 0;  // ≤ segment_size, and a gap ≤ segment_size + 2^b: no wrap
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint64_t quotient = reader.read_unary(limit);
    const std::uint64_t index = previous_end + ((quotient << b) | remainders.read(b));
    require_index_inside(index, segment_size);
    sink(k, index);
    previous_end = index + 1;
  }
}

}  // namespace detail

// Inlined into its caller, so that the sink's captures and the reader's window stay in registers.
template <class Sink>
[[gnu::always_inline]] inline void for_each_index(BitReader& reader, std::uint8_t tag,
                                                  std::size_t count, std::size_t segment_size,
                                                  Sink&& sink) {
  require<DecodeError>(count <= segment_size,
                       "message corrupt: {} indices in a segment of {} elements", count,
                       segment_size);
  const bool rice = (tag & 0x80U) != 0;
  const bool split = (tag & 0x40U) != 0;
  const unsigned b = tag & 0x3FU;
  require<DecodeError>(b <= kMaxRiceBits && (rice || b == 0) && (!split || (rice && b != 0)),
                       "message corrupt: index coding tag {:#04x} is not valid", tag);
  if (split) {
    detail::read_split_rice_indices(reader, b, count, segment_size, sink);
    return;
  }
  std::uint64_t previous_end = 0;  // ≤ segment_size: the sums below cannot overflow
  if (!rice) {
    const unsigned width = bits_for_index(segment_size);
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint64_t index = reader.read(width);
      require<DecodeError>(index >= previous_end && index < segment_size,
                           "message corrupt: index {} out of order or outside a segment of {}",
                           index, segment_size);
      sink(k, index);
      previous_end = index + 1;
    }
    return;
  }
  if (b == 0) {
    detail::read_bitmap_indices(reader, count, segment_size, sink);
    return;
  }
  // A gap is below 2^(6 + 40): with previous_end ≤ 2^32 the sums cannot wrap. One top-up's code
  // words advance the index by less than 64·2^b (see read_rice_words): while that stays inside
  // the segment, their indices need no check. (detail::read_rice_indices with first = 0, written
  // out: versions of this function that went through it decoded 10–30% slower, and this one
  // decodes as fast as before the bitmap.)
  const std::uint64_t top_up_growth = std::uint64_t{64} << b;
  reader.read_rice_words(
      count, b, segment_size >> b, [&] { return previous_end + top_up_growth <= segment_size; },
      [&](std::size_t k, std::uint64_t gap) {
        const std::uint64_t index = previous_end + gap;
        sink(k, index);
        previous_end = index + 1;
      },
      [&](std::size_t k, std::uint64_t gap) {
        const std::uint64_t index = previous_end + gap;
        require_index_inside(index, segment_size);
        sink(k, index);
        previous_end = index + 1;
      });
}

namespace detail {

// The bits of `bytes` (bit i in byte i/8) from bit `at` on: 57 or more, zeros past the end.
inline std::uint64_t bits_at(std::span<const std::uint8_t> bytes, std::uint64_t at) {
  const std::size_t byte = at >> 3;
  if (byte >= bytes.size()) return 0;
  std::uint64_t word = 0;
  std::memcpy(&word, bytes.data() + byte, std::min<std::size_t>(8, bytes.size() - byte));
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word >> (at & 7);  // 57 bits or more left
}

// Hands `sorted`'s whole groups of four to groups(first, count) in runs of at most 64 groups,
// each run a multiple of kStep groups (join_rice_groups' layout: first[−1] is read, and 0xFFFFFFFF
// stands before the segment's first index); returns how many indices the groups covered (a
// multiple of 4·kStep).
template <std::size_t kStep = 1, class Groups>
[[gnu::always_inline]] inline std::size_t for_each_group_run(std::span<const std::uint32_t> sorted,
                                                             Groups&& groups) {
  constexpr std::size_t kStepIndices = 4 * kStep;
  if (sorted.size() < kStepIndices) return 0;
  constexpr std::size_t kRun = 64;
  static_assert(kRun % kStep == 0);
  std::array<std::uint32_t, 1 + kStepIndices> first_groups{~0U};
  std::copy_n(sorted.begin(), kStepIndices, first_groups.begin() + 1);
  groups(first_groups.data() + 1, kStep);
  std::size_t i = kStepIndices;
  while (sorted.size() - i >= kStepIndices) {
    const std::size_t count = std::min(kRun, (sorted.size() - i) / kStepIndices * kStep);
    groups(sorted.data() + i, count);
    i += 4 * count;
  }
  return i;
}

// The Rice code words of parameter b of the sorted indices' gaps, each with its `low_bits` low
// bits (b for Rice; 0 for split Rice's quotients). Four code words at a time: join_rice_groups
// (vectors) joins each group of four into one word, and a group of at most 56 bits (the usual
// case while 4(low_bits + 1) leaves room for four quotients, which are small since b tracks the
// mean gap) is one write. The writer's serial chain (shift, or, store, advance) then runs once
// per four indices.
template <class Writer>
[[gnu::always_inline]] inline void write_rice_code(Writer& writer,
                                                   std::span<const std::uint32_t> sorted,
                                                   unsigned b, unsigned low_bits) {
  std::size_t i = 0;
  if (4 * (1 + low_bits) <= kJoinedRiceBits) {
    std::array<std::uint64_t, 64> codes;
    std::array<std::uint64_t, 64> lengths;
    i = for_each_group_run(
        sorted, [&](const std::uint32_t* first, std::size_t groups) __attribute__((always_inline)) {
          join_rice_groups(first, groups, b, low_bits, codes.data(), lengths.data());
          for (std::size_t k = 0; k < groups; ++k) {
            if (lengths[k] <= kJoinedRiceBits) {
              writer.write(codes[k], static_cast<unsigned>(lengths[k]));
              continue;
            }
            for (const std::uint32_t* index = first + 4 * k; index < first + 4 * k + 4; ++index) {
              write_rice(writer, static_cast<std::uint32_t>(index[0] - index[-1] - 1U), b,
                         low_bits);
            }
          }
        });
  }
  std::uint64_t previous_end = i == 0 ? 0 : std::uint64_t{sorted[i - 1]} + 1;
  for (; i < sorted.size(); ++i) {
    write_rice(writer, sorted[i] - previous_end, b, low_bits);
    previous_end = std::uint64_t{sorted[i]} + 1;
  }
}

// Split Rice of the sorted indices' gaps: every gap's b low bits, then every code word's quotient
// in unary (for b = 0, the quotients alone: Rice's own layout). Not inlined, as the bitmap's
// reader: the writer is copied into a local for the whole write, so that its state stays in
// registers (through the reference every write went through memory).
template <class Writer>
[[gnu::noinline]] void write_split_rice(Writer& writer, std::span<const std::uint32_t> sorted,
                                        unsigned b);

// `bits` bits of `bytes` (bit i in byte i/8) xor `flip`: in whole words where the writer takes
// them (PresizedBitWriter::write_words), then 56 to a write.
template <class Writer>
[[gnu::always_inline]] inline void write_bits_of(Writer& writer,
                                                 std::span<const std::uint8_t> bytes,
                                                 std::uint64_t bits, std::uint64_t flip) {
  constexpr unsigned kField = 56;
  std::uint64_t at = 0;
  if constexpr (requires { writer.write_words(bytes, bits, flip); }) {
    at = writer.write_words(bytes, bits, flip);
  }
  for (; bits - at >= kField; at += kField) {
    writer.write((bits_at(bytes, at) ^ flip) & BitWriter::mask(kField), kField);
  }
  const auto rest = static_cast<unsigned>(bits - at);
  if (rest != 0) writer.write((bits_at(bytes, at) ^ flip) & BitWriter::mask(rest), rest);
}

// Rice with b = 0 from the support's bitmap: its `bits` = last kept + 1 bits, inverted (a one
// for each coordinate skipped, a zero for each kept).
template <class Writer>
[[gnu::always_inline]] inline void write_bitmap_code(Writer& writer,
                                                     std::span<const std::uint8_t> support,
                                                     std::uint64_t bits) {
  write_bits_of(writer, support, bits, ~std::uint64_t{0});
}

}  // namespace detail

// Inlined into its caller, so that a PresizedBitWriter's state stays in registers: behind a
// reference it went through memory, and each write waited for the last one's store.
template <class Writer>
[[gnu::always_inline]] inline void write_indices(Writer& writer,
                                                 std::span<const std::uint32_t> sorted,
                                                 std::size_t segment_size, const IndexPlan& plan,
                                                 std::span<const std::uint8_t> support) {
  if (plan.rice && plan.rice_bits == 0 && !support.empty()) {
    detail::write_bitmap_code(writer, support, plan.bits);
    return;
  }
  // Rice of b = 0 is its unary words alone, the same bytes split or not: a long segment of it is
  // written by the split encoder's vectors too.
  if (plan.split || (plan.rice && plan.rice_bits == 0 && sorted.size() >= kSplitMinimum)) {
    detail::write_split_rice(writer, sorted, plan.rice_bits);
    return;
  }
  if (!plan.rice) {
    const unsigned width = bits_for_index(segment_size);  // ≤ 32
    for (const std::uint32_t index : sorted) writer.write(index, width);
    return;
  }
  detail::write_rice_code(writer, sorted, plan.rice_bits, plan.rice_bits);
}

namespace detail {

// Split Rice's two streams of the indices in whole steps of eight (b ≤ kJoinedRemainderBits);
// returns how many indices that was (a multiple of 8). split_rice_steps (vectors) stores each
// step's remainders, 8b bits, exactly b bytes, at `remainders` + b·step, and joins its unary
// words: only the quotients go through a writer's serial chain (shift, or, store, advance), once
// per step where the step's unary words fit one write.
[[gnu::always_inline]] inline std::size_t write_split_steps(std::uint8_t* remainders,
                                                            PresizedBitWriter& quotients,
                                                            std::span<const std::uint32_t> sorted,
                                                            unsigned b) {
  std::array<std::uint64_t, 32> unary_codes;
  std::array<std::uint64_t, 32> unary_lengths;
  return for_each_group_run<2>(
      sorted, [&](const std::uint32_t* first, std::size_t groups) __attribute__((always_inline)) {
        const std::size_t steps = groups / 2;
        split_rice_steps(first, steps, b, remainders, unary_codes.data(), unary_lengths.data());
        remainders += b * steps;
        for (std::size_t s = 0; s < steps; ++s) {
          if (unary_lengths[s] <= kJoinedRiceBits) {
            quotients.write(unary_codes[s], static_cast<unsigned>(unary_lengths[s]));
            continue;
          }
          // Through a copy: the writer's own state then never has its address taken, and stays
          // in registers on the common path.
          PresizedBitWriter writer = quotients;
          for (const std::uint32_t* index = first + 8 * s; index < first + 8 * s + 8; ++index) {
            write_rice(writer, static_cast<std::uint32_t>(index[0] - index[-1] - 1U), b, 0);
          }
          quotients = writer;
        }
      });
}

// Split Rice: the remainders and the quotients go to two scratch streams, then into `writer`
// one after the other, a word a store where the writer takes whole words.
template <class Writer>
[[gnu::always_inline]] inline void write_split_rice_into(Writer& writer,
                                                         std::span<const std::uint32_t> sorted,
                                                         unsigned b) {
  if (sorted.empty()) return;
  // The remainders fill count·b bits; + 24: split_rice_steps' stores reach 16 bytes past the last
  // step's start, the writer's 8 bytes of slack. Σ (q + 1) ≤ count + Σ gap / 2^b ≤ count + last
  // index / 2^b bounds the quotients;
  // + 16: a partial byte, the writer's slack.
  thread_local std::vector<std::uint8_t> remainder_bytes;
  thread_local std::vector<std::uint8_t> quotient_bytes;
  remainder_bytes.resize(sorted.size() * b / 8 + 24);
  quotient_bytes.resize((sorted.size() + (std::uint64_t{sorted.back()} >> b)) / 8 + 16);
  PresizedBitWriter quotients(quotient_bytes.data());
  const bool in_steps = b <= kJoinedRemainderBits;
  std::size_t i = 0;
  if (in_steps) {
    i = write_split_steps(remainder_bytes.data(), quotients, sorted, b);
  } else {  // long gaps, few indices: all the quotients, four to a write
    write_rice_code(quotients, sorted, b, 0);
  }
  // The indices past the whole steps (all of them for b > kJoinedRemainderBits): the steps'
  // remainders end on a byte, i·b/8.
  PresizedBitWriter rest(remainder_bytes.data() + i / 8 * b);
  const std::uint64_t low = BitWriter::mask(b);
  std::uint64_t previous_end = i == 0 ? 0 : std::uint64_t{sorted[i - 1]} + 1;
  for (; i < sorted.size(); ++i) {
    const std::uint64_t gap = sorted[i] - previous_end;
    rest.write(gap & low, b);
    if (in_steps) write_rice(quotients, gap, b, 0);
    previous_end = std::uint64_t{sorted[i]} + 1;
  }
  write_bits_of(writer, std::span<const std::uint8_t>(remainder_bytes), sorted.size() * b, 0);
  write_bits_of(writer, std::span<const std::uint8_t>(quotient_bytes), quotients.bits(), 0);
}

template <class Writer>
[[gnu::noinline]] void write_split_rice(Writer& writer, std::span<const std::uint32_t> sorted,
                                        unsigned b) {
  if constexpr (std::is_copy_assignable_v<Writer>) {
    Writer local = writer;
    write_split_rice_into(local, sorted, b);
    writer = local;
  } else {
    write_split_rice_into(writer, sorted, b);
  }
}

}  // namespace detail

}  // namespace gradcomp
