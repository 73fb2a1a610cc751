// QSGD with s levels (Alistarh et al. 2017; docs/compressors.md §2.3.11). Unbiased,
// ω = min(d/s², √d/s) per segment. Wire: one norm per segment, then each coordinate's signed level
// in {−s..s} as the field level + s of w = ⌈log₂(2s+1)⌉ bits, as w bit planes over the whole
// vector (bit_planes.hpp): w·⌈d/8⌉ bytes.
#include <array>
#include <bit>
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp); the registry entry builds the
// instance for the best one this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/qsgd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/compress/quantize-inl.hpp"
#include "gradcomp/compress/quantize_kernels-inl.hpp"
#include "gradcomp/core/bit_planes-inl.hpp"
#include "gradcomp/core/vector_ops-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

namespace {

class Qsgd final : public TypedCompressor<Qsgd> {
 public:
  explicit Qsgd(const Params& params)
      : TypedCompressor(CompressorId::kQsgd, "qsgd", params.canonical(), params.choice("values")),
        levels_(static_cast<std::uint32_t>(params.integer("levels"))),
        scope_(parse_scope(params.choice("scope"))),
        width_(static_cast<unsigned>(std::bit_width(2 * levels_))) {}

  [[nodiscard]] Properties properties() const override {
    return {true, false, true, false, false, ErrorBound::kRelative};
  }
  // The squared norms see every element: a non-finite one makes them non-finite.
  [[nodiscard]] bool checks_finite_itself() const override { return true; }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    double omega = 0;
    const double s = levels_;
    for (const Segment& seg : make_segments(layout, scope_)) {
      const double d = static_cast<double>(seg.size);
      omega = std::max(omega, std::min(d / (s * s), std::sqrt(d) / s));
    }
    return {{}, omega, {}, "omega = min(d/s^2, sqrt(d)/s) (Alistarh et al. 2017)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    const auto segments = make_segments(layout, scope_);
    std::vector<T> norms;
    for (const Segment& s : segments) {
      const double squares = sum_squares(x.subspan(s.offset, s.size));
      if (!std::isfinite(squares)) {  // a NaN or infinity in x, or a norm beyond double's range
        if (first_non_finite(x) != x.size()) reject_non_finite(x, layout);
        throw InvalidInput("qsgd: the squared norm of the vector overflows; scale it down");
      }
      norms.push_back(static_cast<T>(std::sqrt(squares)));
    }
    append_values<T>(out, norms, value_format<T>());
    // Levels are computed against the norm as it travels, so the decoder's ‖v‖·level/s is the
    // unbiased estimate of the value it reconstructs. Segments are quantized in 64-element blocks
    // straight into the bit planes.
    simd::BitPlaneWriter planes(out, x.size(), width_);
    std::uint32_t fields[simd::kBlock];
    for (std::size_t b = 0; b < segments.size(); ++b) {
      const Segment& seg = segments[b];
      const double norm = read_back(norms[b]);
      UniformChunks uniforms(context, seg, Purpose::kQuantize);
      // Blocks of the plane section are aligned to the whole vector: carry a partial block over
      // segment boundaries.
      const double scale = norm > 0 ? levels_ / norm : 0.0;
      const auto kernel = simd::qsgd_plane_blocks_for(width_);
      for (std::size_t start = 0; start < seg.size;) {
        const std::size_t global = seg.offset + start;
        const std::size_t in_block = global % simd::kBlock;
        if constexpr (std::is_same_v<T, float>) {  // the common case: whole aligned blocks
          if (in_block == 0 && seg.size - start >= simd::kBlock) {
            constexpr std::size_t kChunkBlocks = UniformChunks::kChunk / simd::kBlock;
            const std::size_t blocks = std::min(kChunkBlocks, (seg.size - start) / simd::kBlock);
            std::array<std::uint64_t, kChunkBlocks * simd::kMaxQsgdWidth> words;
            kernel(x.data() + global, blocks, static_cast<float>(scale), levels_,
                   uniforms.next(blocks * simd::kBlock), words.data(), x.size() - global);
            for (std::size_t k = 0; k < blocks; ++k) {
              planes.put_words(global + k * simd::kBlock, words.data() + k * width_);
            }
            start += blocks * simd::kBlock;
            continue;
          }
        }
        const std::size_t count = std::min(simd::kBlock - in_block, seg.size - start);
        quantize(x.subspan(global, count), norm, uniforms.next(count), fields + in_block);
        start += count;
        if (in_block + count == simd::kBlock || global + count == x.size()) {
          planes.put_block(global + count - (in_block + count), fields, in_block + count);
        }
      }
    }
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const auto segments = make_segments(layout, scope_);
    std::vector<T> step_of(segments.size());
    read_values<T>(reader, segments.size(), value_format<T>(), [&](std::size_t b, T norm) {
      step_of[b] = static_cast<T>(static_cast<double>(norm) / levels_);
    });
    // The segment of element i, advanced as i grows (segments tile the vector in order).
    std::size_t segment = 0;
    std::size_t segment_end = segments.empty() ? 0 : segments[0].offset + segments[0].size;
    std::uint32_t largest = 0;
    read_bit_plane_blocks(reader, out.size(), width_,
                          [&](std::size_t start, const std::uint32_t* fields, std::size_t n) {
                            for (std::size_t j = 0; j < n; ++j)
                              largest = std::max(largest, fields[j]);
                            for (std::size_t j = 0; j < n; ++j) {
                              const std::size_t i = start + j;
                              while (i >= segment_end) {
                                ++segment;
                                segment_end = segments[segment].offset + segments[segment].size;
                              }
                              const auto level =
                                  static_cast<T>(static_cast<std::int64_t>(fields[j]) - levels_);
                              out[i] += weight * step_of[segment] * level;
                            }
                          });
    require<DecodeError>(largest <= 2 * levels_, "qsgd: message corrupt: a level exceeds s = {}",
                         levels_);
  }

 private:
  // The norm after a round trip through the wire format.
  template <class T>
  [[nodiscard]] double read_back(T norm) const {
    return static_cast<double>(value_as_sent<T>(norm, value_format<T>()));
  }

  // Fields (level + s) of `count` coordinates in double arithmetic with 32-bit uniforms: double
  // input, and float coordinates outside whole 64-element blocks.
  template <class T>
  void quantize(std::span<const T> v, double norm, const std::uint32_t* u,
                std::uint32_t* fields) const {
    const double s = levels_;
    const double scale = norm > 0 ? s / norm : 0.0;
    for (std::size_t j = 0; j < v.size(); ++j) {
      const double value = static_cast<double>(v[j]);
      const double r = std::min(s, std::fabs(value) * scale);
      double level = std::floor(r);
      level = level >= s ? s - 1 : level;  // r = s: round between s−1 and s
      level += round_up(u[j], r - level) ? 1.0 : 0.0;
      const auto magnitude = static_cast<std::int32_t>(level);
      fields[j] = static_cast<std::uint32_t>((value < 0 ? -magnitude : magnitude) +
                                             static_cast<std::int32_t>(levels_));
    }
  }

  std::uint32_t levels_;
  Scope scope_;
  unsigned width_;
};

}  // namespace

std::unique_ptr<Compressor> make_qsgd(const Params& params) {
  return std::make_unique<Qsgd>(params);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_qsgd);

CompressorEntry qsgd_entry() {
  return {"qsgd",
          "QSGD: unbiased stochastic quantization to s levels of |v_j|/|v|_2 (Alistarh et al.)",
          "one norm per segment + ceil(log2(2s+1)) bit planes of ceil(d/8) bytes",
          {int_param("levels", "16", 1, 1 << 20, "number of levels s"), scope_param("model"),
           values_param()},
          [](const Params& p) { return HWY_DYNAMIC_DISPATCH(make_qsgd)(p); }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
