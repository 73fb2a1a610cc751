// core/rice_kernels.hpp's kernels, compiled once per instruction set by Highway's foreach_target.
// The sizes are a plain loop the compiler vectorises with each set's widest vectors; the join is
// written with Highway's operations. (Joined in general registers, four words shifted into one
// per group were most of a 32%-density sparse encode: a variable shift needs its count in one
// register on x86-64's baseline, and the loop's many live values went through the stack.)
#include "gradcomp/core/rice_kernels.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/core/rice_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;

// Shift counts are taken mod 64 (& 63): a count of 64 or more only happens in a group longer than
// kJoinedRiceBits, whose joined word is not used, and the mask keeps every shift defined.
constexpr std::uint64_t kCountMask = 63;

// One code word: ((low << 1 | 1) << q) − 1 is q ones, then a zero, then the low bits.
std::uint64_t rice_word(std::uint64_t gap, unsigned b, unsigned low_bits) {
  const std::uint64_t low = gap & ((std::uint64_t{1} << low_bits) - 1);
  return (((low << 1) | 1) << ((gap >> b) & kCountMask)) - 1;
}

}  // namespace

// The sums stay in 32 bits (each is at most Σ gap < segment size ≤ 2^32 − 1), so the loop over
// independent gaps vectorises. A shift of 32 or more gives 0 (the mask), not undefined behaviour.
void rice_quotient_sums(const std::uint32_t* sorted, std::size_t count, unsigned first,
                        std::uint64_t* sums) {
  std::array<unsigned, 3> shift{};
  std::array<std::uint32_t, 3> keep{};
  for (unsigned j = 0; j < 3; ++j) {
    shift[j] = std::min(first + j, 31U);
    keep[j] = first + j < 32 ? ~std::uint32_t{0} : 0;
  }
  std::uint32_t q0 = (sorted[0] >> shift[0]) & keep[0];
  std::uint32_t q1 = (sorted[0] >> shift[1]) & keep[1];
  std::uint32_t q2 = (sorted[0] >> shift[2]) & keep[2];
  for (std::size_t i = 1; i < count; ++i) {
    const std::uint32_t gap = sorted[i] - sorted[i - 1] - 1;
    q0 += (gap >> shift[0]) & keep[0];
    q1 += (gap >> shift[1]) & keep[1];
    q2 += (gap >> shift[2]) & keep[2];
  }
  sums[0] = q0;
  sums[1] = q1;
  sums[2] = q2;
}

void join_rice_groups_kernel(const std::uint32_t* sorted, std::size_t groups, unsigned b,
                             unsigned low_bits, std::uint64_t* codes, std::uint64_t* lengths) {
  const hn::ScalableTag<std::uint64_t> d;
  const hn::Rebind<std::uint32_t, decltype(d)> d32;  // as many 32-bit lanes
  using V = hn::Vec<decltype(d)>;
  const std::size_t lanes = hn::Lanes(d);
  const V one = hn::Set(d, 1);
  const V low_mask = hn::Set(d, (std::uint64_t{1} << low_bits) - 1);
  const V extra = hn::Set(d, 1 + low_bits);  // a word's bits besides its quotient
  const V count_mask = hn::Set(d, kCountMask);
  const auto one32 = hn::Set(d32, 1U);
  const auto shift = static_cast<int>(b);
  const auto code = [&](V gap, V q) {
    const V head = hn::Or(hn::ShiftLeft<1>(hn::And(gap, low_mask)), one);
    return hn::Sub(head << hn::And(q, count_mask), one);
  };
  const std::uint32_t* const previous = sorted - 1;  // previous[m] is the index before sorted[m]
  std::size_t k = 0;
  for (; k + lanes <= groups; k += lanes) {
    // Lane l of a_m is sorted[4(k + l) + m]; the index before it is a_{m−1}'s lane, and
    // sorted[4(k + l) − 1] for m = 0 (from a second load, one index earlier).
    hn::Vec<decltype(d32)> a0, a1, a2, a3, before, unused1, unused2, unused3;
    hn::LoadInterleaved4(d32, sorted + 4 * k, a0, a1, a2, a3);
    hn::LoadInterleaved4(d32, previous + 4 * k, before, unused1, unused2, unused3);
    const auto gap = [&](auto index, auto earlier) {
      return hn::PromoteTo(d, hn::Sub(hn::Sub(index, earlier), one32));
    };
    const V g0 = gap(a0, before), g1 = gap(a1, a0), g2 = gap(a2, a1), g3 = gap(a3, a2);
    const V q0 = hn::ShiftRightSame(g0, shift), q1 = hn::ShiftRightSame(g1, shift);
    const V q2 = hn::ShiftRightSame(g2, shift), q3 = hn::ShiftRightSame(g3, shift);
    const V at1 = hn::Add(q0, extra);
    const V at2 = hn::Add(at1, hn::Add(q1, extra));
    const V at3 = hn::Add(at2, hn::Add(q2, extra));
    const V total = hn::Add(at3, hn::Add(q3, extra));
    const V joined = hn::Or(
        hn::Or(code(g0, q0), code(g1, q1) << hn::And(at1, count_mask)),
        hn::Or(code(g2, q2) << hn::And(at2, count_mask), code(g3, q3) << hn::And(at3, count_mask)));
    hn::StoreU(joined, d, codes + k);
    hn::StoreU(total, d, lengths + k);
  }
  for (; k < groups; ++k) {
    std::uint64_t joined = 0;
    std::uint64_t at = 0;
    for (std::size_t m = 4 * k; m < 4 * k + 4; ++m) {
      const std::uint64_t gap = static_cast<std::uint32_t>(sorted[m] - previous[m] - 1U);
      joined |= rice_word(gap, b, low_bits) << (at & kCountMask);
      at += (gap >> b) + 1 + low_bits;
    }
    codes[k] = joined;
    lengths[k] = at;
  }
}

namespace {

// split_rice_steps' lengths: a quotient over 31 leaves the vectors' 32-bit lane, and counts as 64
// bits, so that its step is written index by index on every target alike.
constexpr std::uint32_t kWidestJoinedQuotient = 31;
constexpr std::uint64_t kUnjoinable = 64;

// One step of eight indices (first[−1] read) without vectors: its remainders' 8b bits stored as
// two little-endian words at `remainders`, its unary words joined into `unary`, their length
// into `length`.
void split_rice_step(const std::uint32_t* first, unsigned b, std::uint8_t* remainders,
                     std::uint64_t& unary, std::uint64_t& length) {
  const std::uint32_t low = (std::uint32_t{1} << b) - 1;
  std::array<std::uint64_t, 2> words{};  // 8b ≤ 112 bits
  std::uint64_t joined = 0;
  std::uint64_t at = 0;
  for (unsigned m = 0; m < 8; ++m) {
    const std::uint32_t gap = first[m] - first[static_cast<std::ptrdiff_t>(m) - 1] - 1U;
    const std::uint64_t remainder = gap & low;
    const unsigned position = b * m;
    if (position >= 64) {
      words[1] |= remainder << (position - 64);
    } else {
      words[0] |= remainder << position;
      if (position + b > 64) words[1] |= remainder >> (64 - position);
    }
    joined |= rice_word(gap, b, 0) << (at & kCountMask);
    at += gap >> b > kWidestJoinedQuotient ? kUnjoinable : (gap >> b) + 1;
  }
  for (std::uint64_t& word : words) {
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  }
  if (b != 0) std::memcpy(remainders, words.data(), 16);
  unary = joined;
  length = at;
}

}  // namespace

// The vectors take 8·lanes/2 indices a round, loaded contiguously (the index before each from a
// load one index earlier), and build each step's parts in three pairings: index pairs in a 64-bit
// lane, then pairs of those in a 128-bit block (Shuffle01), then a step from two neighbouring
// groups of four (ConcatEven puts them in one block). The remainders of a step are then a
// 128-bit block's first b bytes, stored as 16 (the next step's store overwrites the rest; a
// byte compress of all blocks on AVX3_DL, then one store, measured the same).
void split_rice_steps_kernel(const std::uint32_t* sorted, std::size_t steps, unsigned b,
                             std::uint8_t* remainders, std::uint64_t* unary_codes,
                             std::uint64_t* unary_lengths) {
  std::size_t s = 0;
#if HWY_TARGET != HWY_SCALAR && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const hn::ScalableTag<std::uint64_t> d;
  const hn::Repartition<std::uint32_t, decltype(d)> d32;
  const hn::Half<decltype(d)> half;
  using V = hn::Vec<decltype(d)>;
  using V32 = hn::Vec<decltype(d32)>;
  const std::size_t lanes32 = hn::Lanes(d32);
  const std::size_t round = hn::Lanes(d) / 2;  // steps a round: one per 128-bit block
  const V32 low_mask = hn::Set(d32, (std::uint32_t{1} << b) - 1);
  const V32 one32 = hn::Set(d32, 1U);
  const V32 widest = hn::Set(d32, kWidestJoinedQuotient);
  const V32 unjoinable = hn::Set(d32, static_cast<std::uint32_t>(kUnjoinable));
  const V lower = hn::Set(d, std::uint64_t{0xFFFFFFFF});
  const V count_mask = hn::Set(d, kCountMask);
  const auto shift = static_cast<int>(b);
  HWY_ALIGN std::uint64_t blocks[hn::MaxLanes(d)];
  // The b low bits of each gap of a vector, joined in fours: lane 2m holds indices 4m … 4m + 3.
  const auto joined_low = [&](V32 gap) {
    const V x = hn::BitCast(d, hn::And(gap, low_mask));
    const V pairs = hn::Or(hn::And(x, lower), hn::ShiftLeftSame(hn::ShiftRight<32>(x), shift));
    return hn::Or(pairs, hn::Shuffle01(hn::ShiftLeftSame(pairs, 2 * shift)));
  };
  // The unary words (q ones, a zero) of each gap of a vector, joined in fours as above, with
  // their lengths.
  const auto joined_unary = [&](V32 gap, V& length) {
    const V32 q = hn::ShiftRightSame(gap, shift);
    const V32 n = hn::IfThenElse(hn::Gt(q, widest), unjoinable, hn::Add(q, one32));
    const V unary = hn::BitCast(d, hn::Sub(hn::Shl(one32, hn::And(q, widest)), one32));
    const V n64 = hn::BitCast(d, n);
    const V first_length = hn::And(n64, lower);
    const V pair_length = hn::Add(first_length, hn::ShiftRight<32>(n64));
    const V pairs = hn::Or(hn::And(unary, lower),
                           hn::Shl(hn::ShiftRight<32>(unary), hn::And(first_length, count_mask)));
    length = hn::Add(pair_length, hn::Shuffle01(pair_length));
    return hn::Or(pairs, hn::Shl(hn::Shuffle01(pairs), hn::And(pair_length, count_mask)));
  };
  for (; s + round <= steps; s += round) {
    const std::uint32_t* const at = sorted + 8 * s;
    const V32 gap0 = hn::Sub(hn::Sub(hn::LoadU(d32, at), hn::LoadU(d32, at - 1)), one32);
    const V32 gap1 =
        hn::Sub(hn::Sub(hn::LoadU(d32, at + lanes32), hn::LoadU(d32, at + lanes32 - 1)), one32);
    if (b != 0) {
      // Lane g: group g of four. A step (groups 2k, 2k + 1) is 8b ≤ 112 bits: the low word in lane
      // 2k, the bits past 64 in lane 2k + 1.
      const V groups_low = hn::ConcatEven(d, joined_low(gap1), joined_low(gap0));
      const V steps_low =
          hn::OddEven(hn::ShiftRightSame(groups_low, 64 - 4 * shift),
                      hn::Or(groups_low, hn::Shuffle01(hn::ShiftLeftSame(groups_low, 4 * shift))));
      hn::Store(steps_low, d, blocks);
      for (std::size_t k = 0; k < round; ++k) std::memcpy(remainders + b * k, blocks + 2 * k, 16);
      remainders += b * round;
    }
    V length0, length1;
    const V unary0 = joined_unary(gap0, length0);
    const V unary1 = joined_unary(gap1, length1);
    const V groups_unary = hn::ConcatEven(d, unary1, unary0);
    const V groups_length = hn::ConcatEven(d, length1, length0);
    const V steps_unary = hn::Or(
        groups_unary, hn::Shl(hn::Shuffle01(groups_unary), hn::And(groups_length, count_mask)));
    const V steps_length = hn::Add(groups_length, hn::Shuffle01(groups_length));
    hn::StoreU(hn::LowerHalf(half, hn::ConcatEven(d, steps_unary, steps_unary)), half,
               unary_codes + s);
    hn::StoreU(hn::LowerHalf(half, hn::ConcatEven(d, steps_length, steps_length)), half,
               unary_lengths + s);
  }
#endif
  for (; s < steps; ++s) {
    split_rice_step(sorted + 8 * s, b, remainders, unary_codes[s], unary_lengths[s]);
    remainders += b;
  }
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(rice_quotient_sums);
HWY_EXPORT(join_rice_groups_kernel);
HWY_EXPORT(split_rice_steps_kernel);

std::array<std::uint64_t, 3> rice_sizes(std::span<const std::uint32_t> sorted, unsigned first) {
  std::array<std::uint64_t, 3> sizes{};
  if (sorted.empty()) return sizes;
  // A short list on the baseline's copy: the dispatch's lookup and call cost more than wider
  // vectors save on it (a message of 7 indices spent 5 ns more).
  if (sorted.size() < 64) {
    HWY_STATIC_DISPATCH(rice_quotient_sums)(sorted.data(), sorted.size(), first, sizes.data());
  } else {
    HWY_DYNAMIC_DISPATCH(rice_quotient_sums)(sorted.data(), sorted.size(), first, sizes.data());
  }
  for (unsigned j = 0; j < 3; ++j) sizes[j] += sorted.size() * (1 + first + j);
  return sizes;
}

void join_rice_groups(const std::uint32_t* sorted, std::size_t groups, unsigned b,
                      unsigned low_bits, std::uint64_t* codes, std::uint64_t* lengths) {
  HWY_DYNAMIC_DISPATCH(join_rice_groups_kernel)(sorted, groups, b, low_bits, codes, lengths);
}

void split_rice_steps(const std::uint32_t* sorted, std::size_t steps, unsigned b,
                      std::uint8_t* remainders, std::uint64_t* unary_codes,
                      std::uint64_t* unary_lengths) {
  HWY_DYNAMIC_DISPATCH(split_rice_steps_kernel)
  (sorted, steps, b, remainders, unary_codes, unary_lengths);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
