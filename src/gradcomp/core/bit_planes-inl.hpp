// Writing bit-plane sections (bit_planes.hpp has the format and the reader): plane b holds bit b
// of every field, one bit per element. Transposing 64 fields at a time into `width` 64-bit words
// is a handful of vector compares, where packing fields back to back costs a shift per field.
// A per-target header, like simd_masks-inl.hpp: included once per instruction set.
#if defined(GRADCOMP_CORE_BIT_PLANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRADCOMP_CORE_BIT_PLANES_INL_H_
#undef GRADCOMP_CORE_BIT_PLANES_INL_H_
#else
#define GRADCOMP_CORE_BIT_PLANES_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gradcomp/core/bit_planes.hpp"
#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::simd::HWY_NAMESPACE {

using gradcomp::simd::plane_bytes;

// ORs bit b of the lanes of v, shifted to position `lane0`, into words[b], for b < width.
template <class V>
void add_planes(V v, unsigned width, std::size_t lane0, std::uint64_t* words) {
  const hn::DFromV<V> d;
  for (unsigned b = 0; b < width; ++b) {
    words[b] |= detail::mask_bits(d, hn::TestBit(v, hn::Set(d, 1U << b))) << lane0;
  }
}

// Writes bit b of fields[0..64) as 64-bit word words[b], for b < width.
inline void transpose_block(const std::uint32_t* fields, unsigned width, std::uint64_t* words) {
  const hn::ScalableTag<std::uint32_t> d;
  constexpr std::size_t kLanes = hn::MaxLanes(d);
  for (unsigned b = 0; b < width; ++b) words[b] = 0;
  for (std::size_t i = 0; i < kBlock; i += kLanes)
    add_planes(hn::LoadU(d, fields + i), width, i, words);
}

class BitPlaneWriter {
 public:
  BitPlaneWriter(std::vector<std::uint8_t>& out, std::size_t count, unsigned width)
      : width_(width), plane_(plane_bytes(count)), at_(out.size()) {
    out.resize(at_ + plane_ * width_);
    base_ = out.data() + at_;
  }
  // fields[0..n) are elements [start, start + n); start is a multiple of 64, n ≤ 64.
  void put_block(std::size_t start, const std::uint32_t* fields, std::size_t n) {
    std::uint32_t padded[kBlock];
    if (n < kBlock) {
      std::memcpy(padded, fields, n * 4);
      std::fill(padded + n, padded + kBlock, 0U);
      fields = padded;
    }
    std::uint64_t words[32];
    transpose_block(fields, width_, words);
    put_words(start, words);
  }
  // words[b] holds bit b of the fields of elements [start, start + 64); start is a multiple of 64.
  void put_words(std::size_t start, const std::uint64_t* words) {
    const std::size_t byte = start / 8;
    if (byte + 8 <= plane_) {  // a whole word: a fixed-size copy is one store, not a call
      for (unsigned b = 0; b < width_; ++b) std::memcpy(base_ + b * plane_ + byte, &words[b], 8);
      return;
    }
    const std::size_t bytes = plane_ - byte;
    for (unsigned b = 0; b < width_; ++b) std::memcpy(base_ + b * plane_ + byte, &words[b], bytes);
  }

 private:
  unsigned width_;
  std::size_t plane_;
  std::size_t at_;
  std::uint8_t* base_;
};

}  // namespace gradcomp::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // GRADCOMP_CORE_BIT_PLANES_INL_H_
