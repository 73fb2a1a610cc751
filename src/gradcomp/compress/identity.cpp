// Identity (fp32 by default; ALGORITHMS.md §2.3.1) and the fp16 cast (§2.3.2).
// Identity sends the vector in the value format: with values=auto a double vector travels as
// fp64 and decodes bit-exactly, so "EF with the identity compressor equals uncompressed" holds to
// the last bit. fp16 rounds to nearest even; a value that would overflow fp16 (|x| ≥ 65520) is
// refused rather than sent as infinity; double input is rounded to fp32 first.
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/half.hpp"
#include "gradcomp/core/simd_masks.hpp"
#include "gradcomp/core/vector_ops.hpp"

namespace gradcomp {

namespace {

class Identity final : public TypedCompressor<Identity> {
 public:
  Identity(CompressorId id, std::string name, const Params& params, std::string values)
      : TypedCompressor(id, std::move(name), params.canonical(), std::move(values)) {}

  [[nodiscard]] Properties properties() const override {
    const bool exact = id() == CompressorId::kIdentity;
    return {exact, exact, false, false, false, ErrorBound::kRelative};
  }

  [[nodiscard]] Constants constants(const Layout&) const override {
    if (id() == CompressorId::kIdentity) return {1.0, 0.0, {}, "exact (fp32 values round float input exactly)"};
    return {1.0 - std::ldexp(1.0, -22), {}, {},
            "delta >= 1 - 2^-22 when no value underflows fp16 (ALGORITHMS.md §2.3.2)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    if (id() == CompressorId::kFp16) reject_unrepresentable(x, layout);
    append_values<T>(out, x, value_format<T>());
  }

  [[nodiscard]] bool checks_finite_itself() const override { return id() == CompressorId::kFp16; }

  // fp16 cannot carry |x| ≥ 65520 (it would round to infinity) nor NaN: one vectorised scan for
  // magnitudes at or above 65520 finds both.
  template <class T>
  void reject_unrepresentable(std::span<const T> x, const Layout& layout) const {
    const auto limit = simd::magnitude_bits(static_cast<T>(65520));
    const std::size_t whole = x.size() - x.size() % simd::kBlock;
    std::size_t start = 0;
    while (start < whole && !simd::any_magnitude_at_least(x.data() + start, limit)) {
      start += simd::kBlock;
    }
    for (std::size_t i = start; i < x.size(); ++i) {
      if (!std::isfinite(x[i])) reject_non_finite(x, layout);
      if (simd::magnitude_bits(x[i]) >= limit) {
        throw InvalidInput(fmt::format(
            "fp16: |x| = {} at index {} (layer '{}') overflows fp16 (largest finite 65504); "
            "scale the vector or use identity", static_cast<double>(x[i]), i,
            layout.block_of(i).name));
      }
    }
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout&, const StepContext&, std::span<T> out,
                    T weight) const {
    read_values<T>(reader, out.size(), value_format<T>(),
                   [&](std::size_t i, T value) { out[i] += weight * value; });
  }
};

}  // namespace

CompressorEntry identity_entry() {
  return {"identity", "no compression: the vector itself", "d x (value bits)",
          {values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<Identity>(CompressorId::kIdentity, "identity", p,
                                              p.choice("values"));
          }};
}

CompressorEntry fp16_entry() {
  return {"fp16", "cast to IEEE half precision, round to nearest even", "16d",
          {},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<Identity>(CompressorId::kFp16, "fp16", p, "fp16");
          }};
}

}  // namespace gradcomp
