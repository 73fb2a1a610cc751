// TernGrad (Wen et al. 2017; ALGORITHMS.md §2.3.12): Q(v)_j = s·sign(v_j)·b_j with s = ‖v‖_∞ per
// segment and b_j ~ Bernoulli(|v_j|/s). Unbiased, E‖Q(v)‖² = ‖v‖_∞‖v‖₁. Wire: one scale per
// segment, then the trits of the whole vector five to a byte (t0 + 3t1 + 9t2 + 27t3 + 81t4,
// trit 0 = zero, 1 = +s, 2 = −s): 1.6 bits per coordinate.
#include <array>
#include <bit>
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/quantize.hpp"
#include "gradcomp/compress/quantize_kernels.hpp"
#include "gradcomp/core/simd_masks.hpp"

namespace gradcomp {

namespace {

constexpr std::size_t kTritsPerByte = 5;

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
    return {{}, std::sqrt(static_cast<double>(largest)) - 1, {},
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
      scales.push_back(std::bit_cast<T>(largest));
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
    const std::size_t whole = x.size() / kTritsPerByte;
    out.resize(at + (x.size() + kTritsPerByte - 1) / kTritsPerByte);
    std::uint8_t* packed = out.data() + at;
    const std::uint8_t* t = trits.data();
    for (std::size_t byte = 0; byte < whole; ++byte, t += kTritsPerByte) {
      packed[byte] = static_cast<std::uint8_t>(t[0] + 3 * t[1] + 9 * t[2] + 27 * t[3] + 81 * t[4]);
    }
    if (whole * kTritsPerByte < x.size()) {
      unsigned last = 0;
      for (std::size_t j = x.size(); j-- > whole * kTritsPerByte;) last = last * 3 + trits[j];
      packed[whole] = static_cast<std::uint8_t>(last);
    }
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    static const TritTable table;
    const auto segments = make_segments(layout, scope_);
    std::vector<T> scales(segments.size());
    read_values<T>(reader, segments.size(), value_format<T>(),
                   [&](std::size_t b, T v) { scales[b] = v; });
    const auto bytes =
        reader.take((out.size() + kTritsPerByte - 1) / kTritsPerByte, "trits");
    for (const std::uint8_t byte : bytes) {
      require<DecodeError>(byte < 243, "terngrad: message corrupt: byte {} is not 5 trits", byte);
    }
    for (std::size_t b = 0; b < segments.size(); ++b) {
      const T magnitude = weight * scales[b];
      for (std::size_t i = segments[b].offset; i < segments[b].offset + segments[b].size; ++i) {
        const std::uint8_t trit = table.digits[bytes[i / kTritsPerByte]][i % kTritsPerByte];
        out[i] += trit == 0 ? T{0} : (trit == 1 ? magnitude : -magnitude);
      }
    }
  }

 private:
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

CompressorEntry terngrad_entry() {
  return {"terngrad",
          "TernGrad: unbiased ternary {-s, 0, s} with s = |v|_inf per segment (Wen et al.)",
          "one scale per segment + ceil(d/5) bytes (5 trits per byte)",
          {scope_param("layer"), values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<TernGrad>(p);
          }};
}

}  // namespace gradcomp
