// Identity (fp32 by default; docs/compressors.md §2.3.1), the fp16 cast (§2.3.2), and the scaling
// x ↦ δx (§4.3 C13: a δ-compressor for every δ ∈ (0, 1]; the C of [DEF]'s iterate-averaging
// identity R2, used by the tests and by theory-minded users).
// Identity sends the vector in the value format: with values=auto a double vector travels as
// fp64 and decodes bit-exactly, so "EF with the identity compressor equals uncompressed" holds to
// the last bit. fp16 rounds to nearest even; a value that would overflow fp16 (|x| ≥ 65520) is
// refused rather than sent as infinity; double input is rounded to fp32 first.
#include <bit>
#include <cmath>
#include <cstring>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/half.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp): the fp16 conversion loop
// vectorises with the widest integer vectors the CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/identity.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {

namespace {

class Identity final : public TypedCompressor<Identity> {
 public:
  Identity(CompressorId id, std::string name, const Params& params, std::string values,
           double factor = 1.0)
      : TypedCompressor(id, std::move(name), params.canonical(), std::move(values)),
        factor_(factor) {}

  // fp16 values (the fp16 compressor, or values=fp16) round to nearest: deterministic, so biased
  // (by up to 2^-11 relative), and never exact. The payload still all-reduces: the sum of the
  // rounded values, widened, is the sum of the decodes.
  [[nodiscard]] Properties properties() const override {
    const bool identity = id() == CompressorId::kIdentity;
    const bool linear = identity || id() == CompressorId::kScale;
    const bool unbiased = !rounds_to_halves() && (identity || factor_ == 1.0);
    return {unbiased, linear, false, false, false, ErrorBound::kRelative};
  }

  [[nodiscard]] Constants constants(const Layout&) const override {
    const double half_delta = 1.0 - std::ldexp(1.0, -22);  // |round16(x) - x| <= 2^-11 |x|
    if (id() == CompressorId::kScale) {
      if (rounds_to_halves()) {
        return {factor_ * (1.0 - std::ldexp(1.0, -11)),
                {},
                {},
                "delta >= d (1 - 2^-11): |round16(dx) - x| <= (1 - d + 2^-11 d)|x| when no value "
                "underflows fp16 (docs/compressors.md §2.3.2)"};
      }
      return {factor_,
              {},
              {},
              "delta: |dx - x|^2 = (1-d)^2 |x|^2 <= (1-d)|x|^2 (docs/testing.md §4.3 C13)"};
    }
    if (id() == CompressorId::kIdentity && !rounds_to_halves())
      return {1.0, 0.0, {}, "exact (fp32 values round float input exactly)"};
    return {half_delta,
            {},
            {},
            "delta >= 1 - 2^-22 when no value underflows fp16 (docs/compressors.md §2.3.2)"};
  }

  [[nodiscard]] bool rounds_to_halves() const {
    return id() == CompressorId::kFp16 || value_format<float>() == ValueFormat::kFp16;
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    if (id() == CompressorId::kFp16) {
      encode_halves(x, layout, out);
      return;
    }
    if (id() == CompressorId::kScale) {
      std::vector<T> scaled(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) scaled[i] = static_cast<T>(factor_) * x[i];
      append_values<T>(out, scaled, value_format<T>());
      return;
    }
    append_values<T>(out, x, value_format<T>());
  }

  [[nodiscard]] bool checks_finite_itself() const override { return id() == CompressorId::kFp16; }

  // fp16 payloads are summed in the receiver's precision: the rounding is each worker's, the sums
  // are not rounded again (docs/exchange.md).
  [[nodiscard]] std::optional<std::size_t> payload_size(const Layout& layout) const override {
    return layout.total_size();
  }
  template <class T>
  void scatter_typed(std::span<const T> payload, const Layout&, const StepContext&,
                     std::span<T> out, T weight) const {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] += weight * payload[i];
  }

  // Converts in chunks and notes, in the same vectorised loop, whether any magnitude reaches
  // 65520 (it would round to infinity) or is NaN/∞; only then is the vector scanned for the
  // culprit.
  template <class T>
  void encode_halves(std::span<const T> x, const Layout& layout, std::vector<std::uint8_t>& out) {
    constexpr std::uint32_t kLimit = 0x477FF000U;  // bits of 65520.0f
    constexpr std::size_t kChunk = 4096;
    const std::size_t at = out.size();
    out.resize(at + 2 * x.size());
    std::uint16_t halves[kChunk];
    bool unrepresentable = false;
    for (std::size_t start = 0; start < x.size(); start += kChunk) {
      const std::size_t count = std::min(kChunk, x.size() - start);
      const T* in = x.data() + start;
      std::uint32_t worst = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const auto value = static_cast<float>(in[i]);
        halves[i] = float_to_half(value);
        worst = std::max(worst, std::bit_cast<std::uint32_t>(value) & 0x7FFFFFFFU);
      }
      unrepresentable = unrepresentable || worst >= kLimit;
      std::memcpy(out.data() + at + 2 * start, halves, 2 * count);
    }
    if (unrepresentable) reject_unrepresentable(x, layout);
  }

  // Names the first element fp16 cannot carry: NaN/∞ (the usual message) or |x| ≥ 65520.
  template <class T>
  [[noreturn]] void reject_unrepresentable(std::span<const T> x, const Layout& layout) const {
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i])) reject_non_finite(x, layout);
      if (std::fabs(static_cast<float>(x[i])) >= 65520.0F) {
        throw InvalidInput(fmt::format(
            "fp16: |x| = {} at index {} (layer '{}') overflows fp16 (largest finite 65504); "
            "scale the vector or use identity",
            static_cast<double>(x[i]), i, layout.block_of(i).name));
      }
    }
    throw InternalError("fp16: no unrepresentable element found");
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout&, const StepContext&, std::span<T> out,
                    T weight) const {
    read_values<T>(reader, out.size(), value_format<T>(),
                   [&](std::size_t i, T value) { out[i] += weight * value; });
  }

 private:
  double factor_;
};

}  // namespace

// The three members of the family by their wire id.
std::unique_ptr<Compressor> make_identity_family(CompressorId id, const Params& p) {
  switch (id) {
    case CompressorId::kFp16:
      return std::make_unique<Identity>(id, "fp16", p, "fp16");
    case CompressorId::kScale:
      return std::make_unique<Identity>(id, "scale", p, p.choice("values"), p.real("delta"));
    default:
      return std::make_unique<Identity>(CompressorId::kIdentity, "identity", p, p.choice("values"));
  }
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_identity_family);

CompressorEntry identity_entry() {
  return {"identity",
          "no compression: the vector itself",
          "d x (value bits)",
          {values_param()},
          [](const Params& p) {
            return HWY_DYNAMIC_DISPATCH(make_identity_family)(CompressorId::kIdentity, p);
          }};
}

CompressorEntry fp16_entry() {
  return {
      "fp16", "cast to IEEE half precision, round to nearest even", "16d", {}, [](const Params& p) {
        return HWY_DYNAMIC_DISPATCH(make_identity_family)(CompressorId::kFp16, p);
      }};
}

CompressorEntry scale_entry() {
  return {"scale",
          "x -> delta x: a delta-compressor for every delta in (0, 1] (docs/testing.md §4.3 C13, "
          "[DEF] eq 12)",
          "d x (value bits)",
          {real_param("delta", "0.5", 0, 1, "the factor delta", true), values_param()},
          [](const Params& p) {
            return HWY_DYNAMIC_DISPATCH(make_identity_family)(CompressorId::kScale, p);
          }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
