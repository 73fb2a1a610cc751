// core/rice_kernels.hpp's kernels, compiled once per instruction set by Highway's foreach_target.
// The sizes are a plain loop the compiler vectorises with each set's widest vectors; the join is
// written with Highway's operations. (Joined in general registers, four words shifted into one
// per group were most of a 32%-density sparse encode: a variable shift needs its count in one
// register on x86-64's baseline, and the loop's many live values went through the stack.)
#include "gradcomp/core/rice_kernels.hpp"

#include <algorithm>

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

void join_split_groups_kernel(const std::uint32_t* sorted, std::size_t groups, unsigned b,
                              std::uint64_t* low_codes, std::uint64_t* unary_codes,
                              std::uint64_t* unary_lengths) {
  const hn::ScalableTag<std::uint64_t> d;
  const hn::Rebind<std::uint32_t, decltype(d)> d32;
  using V = hn::Vec<decltype(d)>;
  const std::size_t lanes = hn::Lanes(d);
  const std::uint32_t low = (std::uint32_t{1} << b) - 1;  // b ≤ 14
  const auto low_mask = hn::Set(d32, low);
  const auto one32 = hn::Set(d32, 1U);
  const V one = hn::Set(d, 1);
  const V count_mask = hn::Set(d, kCountMask);
  const auto shift = static_cast<int>(b);
  const std::uint32_t* const previous = sorted - 1;
  std::size_t k = 0;
  for (; k + lanes <= groups; k += lanes) {
    hn::Vec<decltype(d32)> a0, a1, a2, a3, before, unused1, unused2, unused3;
    hn::LoadInterleaved4(d32, sorted + 4 * k, a0, a1, a2, a3);
    hn::LoadInterleaved4(d32, previous + 4 * k, before, unused1, unused2, unused3);
    const auto g0 = hn::Sub(hn::Sub(a0, before), one32), g1 = hn::Sub(hn::Sub(a1, a0), one32);
    const auto g2 = hn::Sub(hn::Sub(a2, a1), one32), g3 = hn::Sub(hn::Sub(a3, a2), one32);
    const auto low_of = [&](auto gap) { return hn::PromoteTo(d, hn::And(gap, low_mask)); };
    const auto quotient_of = [&](auto gap) {
      return hn::PromoteTo(d, hn::ShiftRightSame(gap, shift));
    };
    const V joined_low = hn::Or(
        hn::Or(low_of(g0), hn::ShiftLeftSame(low_of(g1), shift)),
        hn::ShiftLeftSame(hn::Or(low_of(g2), hn::ShiftLeftSame(low_of(g3), shift)), 2 * shift));
    const V q0 = quotient_of(g0), q1 = quotient_of(g1), q2 = quotient_of(g2), q3 = quotient_of(g3);
    // q ones and a zero: (1 << q) − 1, q + 1 bits.
    const auto unary = [&](V q) { return hn::Sub(one << hn::And(q, count_mask), one); };
    const V at1 = hn::Add(q0, one);
    const V at2 = hn::Add(at1, hn::Add(q1, one));
    const V at3 = hn::Add(at2, hn::Add(q2, one));
    const V total = hn::Add(at3, hn::Add(q3, one));
    const V joined_unary = hn::Or(
        hn::Or(unary(q0), unary(q1) << hn::And(at1, count_mask)),
        hn::Or(unary(q2) << hn::And(at2, count_mask), unary(q3) << hn::And(at3, count_mask)));
    hn::StoreU(joined_low, d, low_codes + k);
    hn::StoreU(joined_unary, d, unary_codes + k);
    hn::StoreU(total, d, unary_lengths + k);
  }
  for (; k < groups; ++k) {
    std::uint64_t joined_low = 0;
    std::uint64_t joined_unary = 0;
    std::uint64_t at = 0;
    for (std::size_t m = 4 * k; m < 4 * k + 4; ++m) {
      const std::uint32_t gap = sorted[m] - previous[m] - 1U;
      joined_low |= std::uint64_t{gap & low} << (b * (m - 4 * k));
      joined_unary |= rice_word(gap, b, 0) << (at & kCountMask);
      at += (gap >> b) + 1;
    }
    low_codes[k] = joined_low;
    unary_codes[k] = joined_unary;
    unary_lengths[k] = at;
  }
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(rice_quotient_sums);
HWY_EXPORT(join_rice_groups_kernel);
HWY_EXPORT(join_split_groups_kernel);

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

void join_split_groups(const std::uint32_t* sorted, std::size_t groups, unsigned b,
                       std::uint64_t* low_codes, std::uint64_t* unary_codes,
                       std::uint64_t* unary_lengths) {
  HWY_DYNAMIC_DISPATCH(join_split_groups_kernel)
  (sorted, groups, b, low_codes, unary_codes, unary_lengths);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
