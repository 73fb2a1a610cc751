// The sign compressors (docs/compressors.md §2.3.8–2.3.10), one family sharing the packed sign
// bits:
//   scaledsign  (‖v‖₁/d)·sign(v) over the whole vector                       d + 32 bits
//   blocksign   the same per block: one block per layer, or fixed-size blocks  d + 32B bits
//   sign        plain sign(v) ∈ {−1, +1}^d, for majority vote                    d bits
// sign(v)_j = +1 if v_j ≥ 0 else −1 (§1.3), so a zero coordinate decodes to +scale.
// Wire: the B scales first (value format), then d sign bits, bit j of the vector at bit j, a set
// bit meaning −1.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"

static_assert(std::endian::native == std::endian::little, "the wire formats assume little-endian");

// Compiled once per instruction set (core/simd_masks-inl.hpp), the decode loops too; the registry
// entries build the instance for the best one this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/sign.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/core/simd_masks-inl.hpp"
#include "gradcomp/core/vector_ops-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

namespace {

enum class SignKind { kScaled, kBlock, kPlain };

// Appends the d sign bits (bit set: v_j < 0), packed in `words` (the caller's, kept between calls).
// Returns false if x holds a NaN or an infinity.
template <class T>
bool append_sign_bits(std::vector<std::uint8_t>& out, std::span<const T> x,
                      std::vector<std::uint64_t>& words) {
  const std::size_t n = x.size();
  if (n == 0) return true;
  words.assign((n + 63) / 64, 0);
  const std::size_t whole = n / simd::kBlock;
  bool non_finite = false;
  for (std::size_t w = 0; w < whole; ++w) {
    words[w] = simd::negative_mask(x.data() + simd::kBlock * w, non_finite);
  }
  for (std::size_t i = whole * simd::kBlock; i < n; ++i) {
    words[i / 64] |= std::uint64_t{x[i] < T{0}} << (i % 64);
    non_finite = non_finite || !std::isfinite(x[i]);
  }
  const std::size_t at = out.size();
  out.resize(at + (n + 7) / 8);
  std::memcpy(out.data() + at, words.data(), (n + 7) / 8);
  return !non_finite;
}

// out[i] += ±magnitude for i in [begin, end), − where bit i is set. The sign is flipped in the
// bit pattern (exact for every magnitude, infinities included) rather than chosen by a branch: the
// bits are random, so a branch mispredicts half the time, and this form vectorises
// (docs/benchmarks.md).
template <class T>
void add_signed(std::span<T> out, const std::uint8_t* bits, std::size_t begin, std::size_t end,
                T magnitude) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr unsigned kSignShift = 8 * sizeof(T) - 1;
  const Bits pattern = std::bit_cast<Bits>(magnitude);
  const auto signed_one = [&](std::size_t i, unsigned bit) {
    out[i] += std::bit_cast<T>(pattern ^ (static_cast<Bits>(bit) << kSignShift));
  };
  std::size_t i = begin;
  for (; i < end && (i & 7) != 0; ++i) signed_one(i, (bits[i >> 3] >> (i & 7)) & 1U);
  for (; i + 8 <= end; i += 8) {
    const unsigned byte = bits[i >> 3];
    for (unsigned k = 0; k < 8; ++k) signed_one(i + k, (byte >> k) & 1U);
  }
  for (; i < end; ++i) signed_one(i, (bits[i >> 3] >> (i & 7)) & 1U);
}

// out[i] = 0 + (x_i < 0 ? −magnitude : magnitude) for i in [begin, end): what add_signed adds
// to zeros for x's sign bits (set where x_i < 0), without the bits.
template <class T>
void write_signed(std::span<const T> x, std::span<T> out, std::size_t begin, std::size_t end,
                  T magnitude) {
  const T negative = -magnitude;
  for (std::size_t i = begin; i < end; ++i) out[i] = T{0} + (x[i] < T{0} ? negative : magnitude);
}

class SignFamily final : public TypedCompressor<SignFamily> {
 public:
  SignFamily(CompressorId id, std::string name, const Params& params, SignKind kind,
             std::size_t block)
      : TypedCompressor(id, std::move(name), params.canonical(),
                        kind == SignKind::kPlain ? "fp32" : params.choice("values")),
        kind_(kind),
        block_(block) {}

  [[nodiscard]] Properties properties() const override {
    // Decoding adds ±(weight·scale) to every coordinate: weight times the decoded ±scale.
    return {false, false, false,
            false, false, kind_ == SignKind::kPlain ? ErrorBound::kNone : ErrorBound::kRelative,
            true};
  }
  [[nodiscard]] bool checks_finite_itself() const override { return true; }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    if (kind_ == SignKind::kPlain) return {{}, {}, {}, "no delta: sign(v) does not scale with v"};
    std::size_t largest = 0;
    for (const Segment& s : segments(layout)) largest = std::max(largest, s.size);
    if (largest == 0) return {1.0, {}, {}, "empty vector"};
    return {1.0 / static_cast<double>(largest),
            {},
            {},
            kind_ == SignKind::kScaled
                ? "delta(v) = |v|_1^2/(d |v|_2^2) >= 1/d ([BlockEF] §3.2); inspect reports delta(v)"
                : "phi(v) = min_b |v_b|_1^2/(d_b |v_b|_2^2) >= min_b 1/d_b ([BlockEF] Prop 1)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    if (kind_ != SignKind::kPlain) {
      // Refilled in place, as are the scales: an encode allocates nothing once warm (every
      // worker, with a compressor of its own, encodes every step).
      own_segments_.clear();
      for_each_block(layout, [&](const Segment& s) { own_segments_.push_back(s); });
      std::vector<T>& scales = scales_.of<T>();
      scales.clear();
      for (const Segment& s : own_segments_) {
        scales.push_back(
            s.size == 0 ? T{0}
                        : static_cast<T>(sum_abs(x.subspan(s.offset, s.size), x.size() - s.offset) /
                                         static_cast<double>(s.size)));
      }
      const std::size_t at = out.size();
      append_values<T>(out, scales, value_format<T>());
      // The scales as the receivers read them (rounded to the value format), for
      // decode_own_typed.
      own_scales_.resize(scales.size());
      for (std::size_t b = 0; b < scales.size(); ++b) {
        own_scales_[b] = stored_value_as<T>(out.data() + at, b, value_format<T>());
      }
    }
    if (!append_sign_bits(out, x, sign_words_)) reject_non_finite(x, layout);
  }

  // The decode of the message just encoded from x, written without zeroing `decoded` and adding
  // to it: decoding into zeros gives 0 + (±scale), and so does this (0 + (−0) = +0 where a
  // scale is 0). One pass where the decode took a fill and a pass of reads and writes (the
  // fill alone was a tenth of a dist-ef-blocksgdm step). false where a scale is not finite:
  // decoding the message refuses it.
  template <class T>
  bool decode_own_typed(std::span<const T> x, std::span<T> decoded) const {
    if (kind_ == SignKind::kPlain) {
      write_signed(x, decoded, 0, x.size(), T{1});
      return true;
    }
    if (!std::all_of(own_scales_.begin(), own_scales_.end(),
                     [](double scale) { return std::isfinite(static_cast<T>(scale)); })) {
      return false;
    }
    for (std::size_t b = 0; b < own_segments_.size(); ++b) {
      const Segment& s = own_segments_[b];
      write_signed(x, decoded, s.offset, s.offset + s.size, static_cast<T>(own_scales_[b]));
    }
    return true;
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const auto segs = segments(layout);
    std::vector<T> scales(segs.size(), T{1});
    if (kind_ != SignKind::kPlain) {
      read_values<T>(reader, segs.size(), value_format<T>(),
                     [&](std::size_t b, T v) { scales[b] = v; });
    }
    const auto bits = reader.take((out.size() + 7) / 8, "sign bits");
    for (std::size_t b = 0; b < segs.size(); ++b) {
      add_signed(out, bits.data(), segs[b].offset, segs[b].offset + segs[b].size,
                 weight * scales[b]);
    }
  }

 private:
  [[nodiscard]] std::vector<Segment> segments(const Layout& layout) const {
    std::vector<Segment> all;
    for_each_block(layout, [&](const Segment& s) { all.push_back(s); });
    return all;
  }
  // visit(segment) for each of segments(layout), without the list.
  template <class Visit>
  void for_each_block(const Layout& layout, Visit&& visit) const {
    if (kind_ != SignKind::kBlock) {
      for_each_segment(layout, Scope::kModel, 0, visit);
    } else if (block_ == 0) {
      for_each_segment(layout, Scope::kLayer, 0, visit);
    } else {
      for_each_segment(layout, Scope::kFixed, block_, visit);
    }
  }

  SignKind kind_;
  std::size_t block_;
  // The last encode's blocks and their scales as stored (T's value, widened), for
  // decode_own_typed: a worker's compressor is its own, so encode may keep them.
  std::vector<Segment> own_segments_;
  // Scratch of encode, kept so that an encode allocates nothing once warm.
  TypedScratch scales_;
  std::vector<std::uint64_t> sign_words_;
  std::vector<double> own_scales_;
};

}  // namespace

// The three members of the family by their wire id.
std::unique_ptr<Compressor> make_sign_family(CompressorId id, const Params& p) {
  switch (id) {
    case CompressorId::kScaledSign:
      return std::make_unique<SignFamily>(id, "scaledsign", p, SignKind::kScaled, 0);
    case CompressorId::kBlockSign:
      return std::make_unique<SignFamily>(id, "blocksign", p, SignKind::kBlock,
                                          static_cast<std::size_t>(p.integer("block")));
    default:
      return std::make_unique<SignFamily>(CompressorId::kSign, "sign", p, SignKind::kPlain, 0);
  }
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_sign_family);

CompressorEntry scaled_sign_entry() {
  return {"scaledsign",
          "(|v|_1/d) sign(v) over the whole vector ([BlockEF] eq 1)",
          "d sign bits + 1 scale",
          {values_param()},
          [](const Params& p) {
            return HWY_DYNAMIC_DISPATCH(make_sign_family)(CompressorId::kScaledSign, p);
          }};
}

CompressorEntry block_sign_entry() {
  return {
      "blocksign",
      "blockwise scaled sign: one l1 scale per block (per layer, or fixed-size) ([BlockEF] §3.2)",
      "d sign bits + B scales",
      {int_param("block", "0", 0, 4294967295.0,
                 "block size; 0 = one block per layer of the layout"),
       values_param()},
      [](const Params& p) {
        return HWY_DYNAMIC_DISPATCH(make_sign_family)(CompressorId::kBlockSign, p);
      }};
}

CompressorEntry sign_entry() {
  return {"sign",
          "plain sign(v) in {-1,+1} for majority vote (signSGD)",
          "d sign bits",
          {},
          [](const Params& p) {
            return HWY_DYNAMIC_DISPATCH(make_sign_family)(CompressorId::kSign, p);
          }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
