// TernGrad (Wen et al. 2017; docs/compressors.md §2.3.12): Q(v)_j = s·sign(v_j)·b_j with s = ‖v‖_∞
// per segment and b_j ~ Bernoulli(|v_j|/s). Unbiased, E‖Q(v)‖² = ‖v‖_∞‖v‖₁. Wire: one scale per
// segment, then the trits of the whole vector five to a byte (trit 0 = zero, 1 = +s, 2 = −s):
// 1.6 bits per coordinate, ⌈d/5⌉ bytes. The five trits of a byte are m coordinates apart
// (TritLayout): byte b of a group of 5m coordinates holds t_b + 3t_{b+m} + 9t_{b+2m} + 27t_{b+3m} +
// 81t_{b+4m}, with m = 64 (groups of 320) and, for the last group of r < 320, m = ⌈r/5⌉. Packing
// five runs of 64 is a vector operation; five neighbours per byte would be a gather.
#include <array>
#include <bit>
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp); the registry entry builds the
// instance for the best one this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/terngrad.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/compress/quantize-inl.hpp"
#include "gradcomp/compress/quantize_kernels-inl.hpp"
#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

namespace {

constexpr std::size_t kTritsPerByte = 5;
constexpr std::size_t kGroupBytes = 64;
constexpr std::size_t kGroupTrits = kTritsPerByte * kGroupBytes;

struct TritTable {
  std::array<std::array<std::uint8_t, kTritsPerByte>, 243> digits{};
  TritTable() {
    for (unsigned byte = 0; byte < 243; ++byte) {
      unsigned rest = byte;
      for (auto& digit : digits[byte]) {
        digit = static_cast<std::uint8_t>(rest % 3);
        rest /= 3;
      }
    }
  }
};

// Where the trits of a group of coordinates [start, start + length) live: byte b of the group
// holds the coordinates start + b + i·stride, i < 5.
struct TritGroup {
  std::size_t start, length, stride, first_byte;
};

template <class Visit>
void for_each_trit_group(std::size_t d, Visit&& visit) {
  const std::size_t full = d / kGroupTrits;
  for (std::size_t g = 0; g < full; ++g) {
    visit(TritGroup{g * kGroupTrits, kGroupTrits, kGroupBytes, g * kGroupBytes});
  }
  const std::size_t rest = d - full * kGroupTrits;
  if (rest > 0) {
    visit(TritGroup{full * kGroupTrits, rest, (rest + kTritsPerByte - 1) / kTritsPerByte,
                    full * kGroupBytes});
  }
}

class TernGrad final : public TypedCompressor<TernGrad> {
 public:
  explicit TernGrad(const Params& params)
      : TypedCompressor(CompressorId::kTernGrad, "terngrad", params.canonical(),
                        params.choice("values")),
        scope_(parse_scope(params.choice("scope"))) {}

  [[nodiscard]] Properties properties() const override {
    return {true, false, true, false, false, ErrorBound::kRelative};
  }
  [[nodiscard]] bool checks_finite_itself() const override { return true; }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    std::size_t largest = 0;
    for (const Segment& s : make_segments(layout, scope_)) largest = std::max(largest, s.size);
    return {{},
            std::sqrt(static_cast<double>(largest)) - 1,
            {},
            "omega(v) = |v|_inf |v|_1 / |v|_2^2 - 1 <= sqrt(d) - 1; inspect reports omega(v)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    const auto segments = make_segments(layout, scope_);
    std::vector<T> scales;
    for (const Segment& s : segments) {
      const auto largest = simd::max_magnitude(x.data() + s.offset, s.size);
      if (largest >= simd::kInfinityBits<T>) reject_non_finite(x, layout);
      scales.push_back(scale_as_sent(std::bit_cast<T>(largest)));
    }
    append_values<T>(out, scales, value_format<T>());
    trits_.resize(x.size());  // kept between steps: no allocation (and page faults) per encode
    std::vector<std::uint8_t>& trits = trits_;
    for (std::size_t b = 0; b < segments.size(); ++b) {
      const Segment& s = segments[b];
      draw_trits(x.subspan(s.offset, s.size), static_cast<double>(scales[b]), context, s,
                 trits.data() + s.offset);
    }
    const std::size_t at = out.size();
    out.resize(at + (x.size() + kTritsPerByte - 1) / kTritsPerByte);
    std::uint8_t* packed = out.data() + at;
    for_each_trit_group(x.size(), [&](const TritGroup& group) {
      const std::uint8_t* t = trits.data() + group.start;
      std::uint8_t* bytes = packed + group.first_byte;
      if (group.length == kGroupTrits) {  // vectorised: five runs of 64
        for (std::size_t b = 0; b < kGroupBytes; ++b) {
          bytes[b] = static_cast<std::uint8_t>(t[b] + 3 * t[b + 64] + 9 * t[b + 128] +
                                               27 * t[b + 192] + 81 * t[b + 256]);
        }
        return;
      }
      for (std::size_t b = 0; b < group.stride; ++b) {
        unsigned value = 0;
        for (std::size_t i = kTritsPerByte; i-- > 0;) {
          const std::size_t j = b + i * group.stride;
          value = value * 3 + (j < group.length ? t[j] : 0U);
        }
        bytes[b] = static_cast<std::uint8_t>(value);
      }
    });
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    static const TritTable table;
    const auto segments = make_segments(layout, scope_);
    std::vector<T> scales(segments.size());
    read_values<T>(reader, segments.size(), value_format<T>(),
                   [&](std::size_t b, T v) { scales[b] = v; });
    const auto bytes = reader.take((out.size() + kTritsPerByte - 1) / kTritsPerByte, "trits");
    std::vector<T> magnitude(out.size());
    for (std::size_t b = 0; b < segments.size(); ++b) {
      std::fill_n(magnitude.begin() + static_cast<std::ptrdiff_t>(segments[b].offset),
                  segments[b].size, weight * scales[b]);
    }
    bool valid = true;
    for_each_trit_group(out.size(), [&](const TritGroup& group) {
      for (std::size_t b = 0; b < group.stride; ++b) {
        const std::uint8_t byte = bytes[group.first_byte + b];
        valid = valid && byte < 243;
        if (byte >= 243) continue;
        for (std::size_t i = 0; i < kTritsPerByte; ++i) {
          const std::uint8_t trit = table.digits[byte][i];
          const std::size_t j = b + i * group.stride;
          if (j >= group.length) {
            valid = valid && trit == 0;  // padding digits of the last group are zero
            continue;
          }
          const std::size_t at = group.start + j;
          out[at] += trit == 0 ? T{0} : (trit == 1 ? magnitude[at] : -magnitude[at]);
        }
      }
    });
    require<DecodeError>(valid, "terngrad: message corrupt: a byte is not 5 trits");
  }

  // The scale as the decoder will read it, and never below max |v_j|: a scale rounded down by
  // the wire format (fp16, or fp32 for double input) would make the keep probability |v_j|/s of
  // the largest entries exceed 1, and clipping it would bias them toward zero.
  template <class T>
  [[nodiscard]] T scale_as_sent(T largest) const {
    const ValueFormat format = value_format<T>();
    T sent = value_as_sent<T>(largest, format);
    // Up by the format's relative spacing (2^-10 for fp16, 2^-23 for fp32), doubling it where the
    // spacing is wider (subnormal halves): the first representable value at or above `largest`.
    double gap = format == ValueFormat::kFp16 ? 0x1p-10 : 0x1p-23;
    while (sent < largest) {
      sent = value_as_sent<T>(static_cast<T>(static_cast<double>(largest) * (1.0 + gap)), format);
      gap *= 2;
    }
    return sent;
  }

  template <class T>
  void draw_trits(std::span<const T> v, double scale, const StepContext& context,
                  const Segment& segment, std::uint8_t* trits) const {
    UniformChunks uniforms(context, segment, Purpose::kQuantize);
    std::size_t j = 0;
    if constexpr (std::is_same_v<T, float>) {  // whole blocks: the vector kernel, 24-bit uniforms
      const float inverse = scale > 0 ? static_cast<float>(1.0 / scale) : 0.0F;
      for (; j + simd::kBlock <= v.size(); j += simd::kBlock) {
        simd::terngrad_trits(v.data() + j, inverse, uniforms.next(simd::kBlock), trits + j);
      }
    }
    for (; j < v.size(); ++j) {
      const double value = static_cast<double>(v[j]);
      const bool keep = scale > 0 && round_up(*uniforms.next(1), std::fabs(value) / scale);
      trits[j] = keep ? (value < 0 ? 2 : 1) : 0;
    }
  }

  Scope scope_;
  std::vector<std::uint8_t> trits_;
};

}  // namespace

std::unique_ptr<Compressor> make_terngrad(const Params& params) {
  return std::make_unique<TernGrad>(params);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_terngrad);

CompressorEntry terngrad_entry() {
  return {"terngrad",
          "TernGrad: unbiased ternary {-s, 0, s} with s = |v|_inf per segment (Wen et al.)",
          "one scale per segment + ceil(d/5) bytes (5 trits per byte)",
          {scope_param("layer"), values_param()},
          [](const Params& p) { return HWY_DYNAMIC_DISPATCH(make_terngrad)(p); }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
