// Hard threshold C_λ ([HardThreshold] §4.2; docs/compressors.md §2.3.7): keep every coordinate with
// |x_j| ≥ λ. Element-wise, so the layer-wise and whole-model results are identical ([HardThreshold]
// §C.5) and the compressor works on the whole vector. Absolute compressor, υ² = dλ². The number
// kept varies, so the message carries it (varint) before the sparse section.
#include <bit>
#include <cmath>
#include <memory>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/bit_stream.hpp"

// Compiled once per instruction set (core/simd_masks-inl.hpp); the registry entry builds the
// instance for the best one this CPU has.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/threshold.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;
namespace hn = hwy::HWY_NAMESPACE;

namespace {

// The smallest T not below λ: for T-valued x, |x| ≥ λ exactly when |x| ≥ this bound.
template <class T>
T threshold_in(double lambda) {
  T bound = static_cast<T>(lambda);
  if (static_cast<double>(bound) < lambda) bound = std::nextafter(bound, T(INFINITY));
  return bound;
}

// The number of lanes a compressed vector stored whole writes past the positions it keeps.
template <class T>
std::size_t collect_slack() {
  return hn::Lanes(hn::ScalableTag<T>());
}

// Whether collect_above writes the kept set's bitmap for T: where a vector's compare is a whole
// number of bytes of it (float with 8 or 16 lanes).
template <class T>
constexpr bool kCollectsSupport =
    sizeof(T) == sizeof(std::uint32_t) && hn::MaxLanes(hn::ScalableTag<T>()) % 8 == 0;

// Writes the indices with magnitude_bits ≥ bound, ascending, to `out` and their values to
// `values` (each with room for x.size() + collect_slack<T>()); returns how many. For float, per
// vector of x a compare, then the kept lanes' positions and values compressed to the front of a
// vector and stored (no branch per kept element); for double (whose 64-bit lanes this Highway
// cannot compress into 32-bit positions) per 64 elements a mask whose set bits are walked.
// Where kCollectsSupport<T>, the compares' bits also go to `support` (⌈x.size()/8⌉ bytes): the
// kept set as a bitmap, from which the bitmap code is written without walking the indices.
template <class T>
std::size_t collect_above(std::span<const T> x, T bound, std::uint32_t* out, T* values,
                          std::uint8_t* support) {
  const auto bound_bits = simd::magnitude_bits(bound);
  std::size_t count = 0;
  std::size_t i = 0;
  if constexpr (sizeof(T) == sizeof(std::uint32_t)) {
    const hn::ScalableTag<T> d;
    const hn::RebindToSigned<decltype(d)> di;
    const hn::RebindToUnsigned<decltype(d)> du;
    using Signed = hn::TFromD<decltype(di)>;
    const std::size_t lanes = hn::Lanes(d);
    const auto magnitude = hn::Set(di, static_cast<Signed>(~simd::MagnitudeBits<T>{0} >> 1));
    // bits > bound − 1 (signed): with bound 0 that is −1, and every magnitude is kept.
    const auto below = hn::Set(di, static_cast<Signed>(bound_bits - 1));
    auto position = hn::Iota(du, 0);
    const auto step = hn::Set(du, static_cast<std::uint32_t>(lanes));
    for (; i + lanes <= x.size(); i += lanes) {
      const auto v = hn::LoadU(d, x.data() + i);
      const auto keep = hn::Gt(hn::And(hn::BitCast(di, v), magnitude), below);
      if constexpr (kCollectsSupport<T>) hn::StoreMaskBits(di, keep, support + i / 8);
      // At a low density most vectors keep nothing: the test is predicted and skips the stores.
      // Compressed in registers, then stored whole (into the slack): AVX-512's compress
      // straight to memory is microcoded on AMD's Zen 4 (a quarter of a 30%-density run's
      // time went to it), the register form is not, and on other targets the two are the same.
      if (!hn::AllFalse(di, keep)) {
        hn::StoreU(hn::Compress(v, hn::RebindMask(d, keep)), d, values + count);
        hn::StoreU(hn::Compress(position, hn::RebindMask(du, keep)), du, out + count);
        count += hn::CountTrue(di, keep);
      }
      position = hn::Add(position, step);
    }
  } else {
    for (; i + simd::kBlock <= x.size(); i += simd::kBlock) {
      if (bound_bits != 0 && !simd::any_magnitude_at_least(x.data() + i, bound_bits)) continue;
      for (auto mask = simd::magnitude_at_least_mask(x.data() + i, bound_bits); mask != 0;
           mask &= mask - 1) {
        const std::size_t kept = i + static_cast<std::size_t>(std::countr_zero(mask));
        values[count] = x[kept];
        out[count++] = static_cast<std::uint32_t>(kept);
      }
    }
  }
  if constexpr (kCollectsSupport<T>) std::fill(support + i / 8, support + (x.size() + 7) / 8, 0);
  for (; i < x.size(); ++i) {
    if (simd::magnitude_bits(x[i]) >= bound_bits) {
      values[count] = x[i];
      out[count++] = static_cast<std::uint32_t>(i);
      if constexpr (kCollectsSupport<T>) support[i / 8] |= static_cast<std::uint8_t>(1U << (i % 8));
    }
  }
  return count;
}

// decoded = 0 + x where magnitude_bits(x) ≥ bound, else 0: a threshold message's decode (the
// same kept set as collect_above; 0 + x turns a kept −0 into +0, as decoding adds into zeros).
// One dense pass instead of zeroing and scattering.
template <class T>
void write_kept(std::span<const T> x, T bound, std::span<T> decoded) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using Signed = hn::TFromD<decltype(di)>;
  const std::size_t lanes = hn::Lanes(d);
  const auto bound_bits = simd::magnitude_bits(bound);
  const auto magnitude = hn::Set(di, static_cast<Signed>(~simd::MagnitudeBits<T>{0} >> 1));
  const auto below = hn::Set(di, static_cast<Signed>(bound_bits - 1));
  std::size_t i = 0;
  for (; i + lanes <= x.size(); i += lanes) {
    const auto v = hn::LoadU(d, x.data() + i);
    const auto keep = hn::RebindMask(d, hn::Gt(hn::And(hn::BitCast(di, v), magnitude), below));
    hn::StoreU(hn::IfThenElseZero(keep, hn::Add(hn::Zero(d), v)), d, decoded.data() + i);
  }
  for (; i < x.size(); ++i) {
    decoded[i] = simd::magnitude_bits(x[i]) >= bound_bits ? T{0} + x[i] : T{0};
  }
}

// A buffer that grows to the room asked for and keeps its contents' storage between encodings;
// not a vector: growing one would zero it first.
template <class T>
class Scratch {
 public:
  T* room(std::size_t size) {
    if (size > size_) {
      data_ = std::make_unique_for_overwrite<T[]>(size);
      size_ = size;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

class Threshold final : public TypedCompressor<Threshold> {
 public:
  explicit Threshold(const Params& params)
      : TypedCompressor(CompressorId::kThreshold, "threshold", params.canonical(),
                        params.choice("values")),
        lambda_(params.real("lambda")),
        index_(parse_index_choice(params.choice("index"))) {}

  [[nodiscard]] Properties properties() const override {
    return {false, false, false, false, false, ErrorBound::kAbsolute, true};
  }
  [[nodiscard]] bool checks_finite_itself() const override { return true; }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    const double d = static_cast<double>(layout.total_size());
    return {{}, {}, d * lambda_ * lambda_, "upsilon^2 = d lambda^2 ([HardThreshold] §5)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    kept_.segment = Segment{0, layout.total_size(), 0};
    const std::size_t room = x.size() + collect_slack<T>();
    T* const values = [&] {
      if constexpr (std::is_same_v<T, float>) {
        return float_values_.room(room);
      } else {
        return double_values_.room(room);
      }
    }();
    std::uint32_t* const indices = indices_.room(room);
    const std::size_t support_bytes = kCollectsSupport<T> ? (x.size() + 7) / 8 : 0;
    std::uint8_t* const support = support_.room(support_bytes);
    const std::size_t count = collect_above(x, threshold_in<T>(lambda_), indices, values, support);
    kept_.indices.assign(indices, indices + count);
    // A NaN or infinity is always at least the bound (core/simd_masks-inl.hpp): the kept values
    // are the only candidates.
    const std::span<const T> kept_values(values, count);
    if (first_non_finite(kept_values) != count) reject_non_finite(x, layout);
    append_varint(out, kept_.indices.size());
    kept_.support = {support, support_bytes};  // borrowed for the write only
    write_sparse_indices(out, std::span<const SparseSegment>(&kept_, 1), index_);
    kept_.support = {};
    append_values<T>(out, kept_values, value_format<T>());
  }

  template <class T>
  bool decode_own_typed(std::span<const T> x, std::span<T> decoded) const {
    if (!carries_exactly<T>(value_format<T>())) return false;
    write_kept(x, threshold_in<T>(lambda_), decoded);
    return true;
  }

  template <class T>
  bool decode_own_sparse_typed(std::span<const T> x, const Layout&, const StepContext&,
                               std::size_t limit, SparseDecode<T>& sparse) const {
    if (!carries_exactly<T>(value_format<T>()) || kept_.indices.size() > limit) return false;
    return append_sparse_decode(x, kept_, T{1}, sparse);
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const std::size_t count = reader.varint("count");
    require<DecodeError>(count <= layout.total_size(),
                         "threshold: message claims {} kept coordinates of {}", count,
                         layout.total_size());
    const Segment whole{0, layout.total_size(), 0};
    read_sparse_add(reader, std::span<const Segment>(&whole, 1),
                    std::span<const std::size_t>(&count, 1), value_format<T>(), out, weight);
  }

 private:
  double lambda_;
  IndexChoice index_;
  SparseSegment kept_;  // the last encoding's kept coordinates (its buffer reused between steps)
  Scratch<std::uint32_t> indices_;  // collect_above's output
  Scratch<std::uint8_t> support_;   // and its bitmap (kCollectsSupport)
  Scratch<float> float_values_;
  Scratch<double> double_values_;
};

}  // namespace

std::unique_ptr<Compressor> make_threshold(const Params& params) {
  return std::make_unique<Threshold>(params);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(make_threshold);

CompressorEntry threshold_entry() {
  return {"threshold",
          "hard threshold: keep every coordinate with |x_j| >= lambda ([HardThreshold])",
          "varint count + count x (value bits) + coded indices",
          {real_param("lambda", "0.001", 0, 1e300, "the threshold lambda"), index_param(),
           values_param()},
          [](const Params& p) { return HWY_DYNAMIC_DISPATCH(make_threshold)(p); }};
}

}  // namespace gradcomp
#endif  // HWY_ONCE
