// core/shifted_copy.hpp's kernel, compiled once per instruction set by Highway's foreach_target.
// Each output word depends on two neighbouring input words only, so a vector of them is two
// overlapping loads, two shifts, an or and a store.
#include "gradcomp/core/shifted_copy.hpp"

#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/core/shifted_copy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

std::uint64_t copy_shifted_words_kernel(std::uint8_t* to, const std::uint8_t* from,
                                        std::size_t words, unsigned shift, std::uint64_t below,
                                        std::uint64_t flip) {
  const auto word_at = [&](std::size_t w) {
    std::uint64_t word = 0;
    std::memcpy(&word, from + 8 * w, 8);
    return word ^ flip;
  };
  // The top `shift` bits, none for shift 0 (a shift by 64 would be undefined).
  const auto top_bits = [&](std::uint64_t word) { return (word >> 1) >> (63 - shift); };
  const auto store = [&](std::size_t w, std::uint64_t word) { std::memcpy(to + 8 * w, &word, 8); };
  std::size_t w = 0;
  if (words != 0) {
    store(0, below | (word_at(0) << shift));
    w = 1;
  }
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::uint64_t> d;
  const hn::Repartition<std::uint8_t, decltype(d)> d8;
  const std::size_t lanes = hn::Lanes(d);
  const auto flip_all = hn::Set(d, flip);
  const auto load = [&](std::size_t first) {
    return hn::Xor(hn::BitCast(d, hn::LoadU(d8, from + 8 * first)), flip_all);
  };
  const auto up = static_cast<int>(shift);
  const auto down = static_cast<int>(63 - shift);
  for (; w + lanes <= words; w += lanes) {
    const auto shifted = hn::Or(hn::ShiftLeftSame(load(w), up),
                                hn::ShiftRightSame(hn::ShiftRight<1>(load(w - 1)), down));
    hn::StoreU(hn::BitCast(d8, shifted), d8, to + 8 * w);
  }
#endif
  for (; w < words; ++w) store(w, (word_at(w) << shift) | top_bits(word_at(w - 1)));
  const std::uint64_t last = words == 0 ? below : top_bits(word_at(words - 1));
  store(words, last);
  return last;
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(copy_shifted_words_kernel);

std::uint64_t copy_shifted_words_wide(std::uint8_t* to, const std::uint8_t* from, std::size_t words,
                                      unsigned shift, std::uint64_t below, std::uint64_t flip) {
  return HWY_DYNAMIC_DISPATCH(copy_shifted_words_kernel)(to, from, words, shift, below, flip);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
