// Hard threshold C_λ ([HardThreshold] §4.2; docs/compressors.md §2.3.7): keep every coordinate with
// |x_j| ≥ λ. Element-wise, so the layer-wise and whole-model results are identical ([HardThreshold]
// §C.5) and the compressor works on the whole vector. Absolute compressor, υ² = dλ². The number
// kept varies, so the message carries it (varint) before the sparse section.
#include <bit>
#include <cmath>

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

namespace {

// The smallest T not below λ: for T-valued x, |x| ≥ λ exactly when |x| ≥ this bound.
template <class T>
T threshold_in(double lambda) {
  T bound = static_cast<T>(lambda);
  if (static_cast<double>(bound) < lambda) bound = std::nextafter(bound, T(INFINITY));
  return bound;
}

// Indices with magnitude_bits ≥ bound, ascending. Returns false if a NaN or infinity was seen
// (they are always at least the bound, see core/simd_masks-inl.hpp).
template <class T>
bool collect_above(std::span<const T> x, T bound, std::vector<std::uint32_t>& indices) {
  const auto bound_bits = simd::magnitude_bits(bound);
  const T* data = x.data();
  const std::size_t whole = x.size() - x.size() % simd::kBlock;
  for (std::size_t start = 0; start < whole; start += simd::kBlock) {
    if (bound_bits != 0 && !simd::any_magnitude_at_least(data + start, bound_bits)) continue;
    for (auto mask = simd::magnitude_at_least_mask(data + start, bound_bits); mask != 0;
         mask &= mask - 1) {
      indices.push_back(static_cast<std::uint32_t>(start + std::countr_zero(mask)));
    }
  }
  for (std::size_t i = whole; i < x.size(); ++i) {
    if (simd::magnitude_bits(data[i]) >= bound_bits)
      indices.push_back(static_cast<std::uint32_t>(i));
  }
  bool finite = true;
  for (const std::uint32_t i : indices) {
    finite = finite && simd::magnitude_bits(data[i]) < simd::kInfinityBits<T>;
  }
  return finite;
}

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
    SparseSegment part{Segment{0, layout.total_size(), 0}, {}};
    if (!collect_above(x, threshold_in<T>(lambda_), part.indices)) reject_non_finite(x, layout);
    append_varint(out, part.indices.size());
    write_sparse_indices(out, std::span<const SparseSegment>(&part, 1), index_);
    write_sparse_values(out, x, std::span<const SparseSegment>(&part, 1), value_format<T>());
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const std::size_t count = reader.varint("count");
    require<DecodeError>(count <= layout.total_size(),
                         "threshold: message claims {} kept coordinates of {}", count,
                         layout.total_size());
    const Segment whole{0, layout.total_size(), 0};
    const auto indices = read_sparse_indices(reader, std::span<const Segment>(&whole, 1),
                                             std::span<const std::size_t>(&count, 1));
    read_sparse_values(reader, indices, value_format<T>(), out, weight);
  }

 private:
  double lambda_;
  IndexChoice index_;
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
