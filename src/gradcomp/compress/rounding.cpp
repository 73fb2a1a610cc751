// Rounding to a grid of spacing ε ([HardThreshold] §5; docs/compressors.md §2.3.14): an absolute
// compressor. mode=stochastic: ε·(⌊x/ε⌋ + b), b ~ Bernoulli(frac(x/ε)), unbiased, υ² = dε² (E-bound
// dε²/4); mode=nearest: ε·round(x/ε), υ² = dε²/4. Levels are b-bit two's-complement integers (field
// = level + 2^(b−1)); values outside [−2^(b−1), 2^(b−1) − 1]·ε are clipped, which breaks the bound,
// so inspect reports how many were clipped through the relative error.
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/packed.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp); the registry entry builds the
// instance for the best one this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/rounding.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/compress/quantize-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {

namespace {

class Rounding final : public TypedCompressor<Rounding> {
 public:
  explicit Rounding(const Params& params)
      : TypedCompressor(CompressorId::kRounding, "round", params.canonical(), "fp32"),
        epsilon_(params.real("eps")),
        bits_(static_cast<unsigned>(params.integer("bits"))),
        stochastic_(params.choice("mode") == "stochastic") {}

  [[nodiscard]] Properties properties() const override {
    return {stochastic_, false, stochastic_, false, false, ErrorBound::kAbsolute};
  }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    const double d = static_cast<double>(layout.total_size());
    const double bound = stochastic_ ? d * epsilon_ * epsilon_ : d * epsilon_ * epsilon_ / 4;
    return {{},
            {},
            bound,
            stochastic_ ? "upsilon^2 = d eps^2 ([HardThreshold] §5), if nothing is clipped"
                        : "upsilon^2 = d eps^2 / 4, if nothing is clipped"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    const double lowest = -std::ldexp(1.0, static_cast<int>(bits_) - 1);
    const double highest = -lowest - 1;
    std::vector<std::uint32_t> fields(x.size());
    const Segment whole{0, layout.total_size(), 0};
    UniformChunks uniforms(context, whole, Purpose::kRounding);
    for (std::size_t start = 0; start < x.size(); start += UniformChunks::kChunk) {
      const std::size_t count = std::min(UniformChunks::kChunk, x.size() - start);
      const std::uint32_t* u = stochastic_ ? uniforms.next(count) : nullptr;
      for (std::size_t j = 0; j < count; ++j) {
        const double scaled =
            std::clamp(static_cast<double>(x[start + j]) / epsilon_, lowest - 1, highest + 1);
        double level;
        if (stochastic_) {
          level = std::floor(scaled);
          level += round_up(u[j], scaled - level) ? 1.0 : 0.0;
        } else {
          level = std::nearbyint(scaled);
        }
        level = std::clamp(level, lowest, highest);
        fields[start + j] = static_cast<std::uint32_t>(static_cast<std::int64_t>(level - lowest));
      }
    }
    append_packed(out, fields.size(), bits_, [&](std::size_t i) { return fields[i]; });
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout&, const StepContext&, std::span<T> out,
                    T weight) const {
    const double lowest = -std::ldexp(1.0, static_cast<int>(bits_) - 1);
    read_packed(reader, out.size(), bits_, [&](std::size_t i, std::uint32_t field) {
      out[i] += weight * static_cast<T>(epsilon_ * (static_cast<double>(field) + lowest));
    });
  }

 private:
  double epsilon_;
  unsigned bits_;
  bool stochastic_;
};

}  // namespace

std::unique_ptr<Compressor> make_rounding(const Params& params) {
  return std::make_unique<Rounding>(params);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_rounding);

CompressorEntry rounding_entry() {
  return {"round",
          "rounding to a grid of spacing eps, stochastic (unbiased) or nearest; absolute "
          "([HardThreshold] §5)",
          "d x bits (eps is a parameter, not sent)",
          {real_param("eps", "0.0001", 0, 1e300, "grid spacing epsilon", true),
           int_param("bits", "16", 2, 32, "bits per level (two's complement, clipped)"),
           choice_param("mode", "stochastic", {"stochastic", "nearest"}, "rounding rule")},
          [](const Params& p) { return HWY_DYNAMIC_DISPATCH(make_rounding)(p); }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
