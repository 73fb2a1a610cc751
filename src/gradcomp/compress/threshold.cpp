// Hard threshold C_λ (S004 §4.2; ALGORITHMS.md §2.3.7): keep every coordinate with |x_j| ≥ λ.
// Element-wise, so the layer-wise and whole-model results are identical (S004 §C.5) and the
// compressor works on the whole vector. Absolute compressor, υ² = dλ². The number kept varies,
// so the message carries it (varint) before the sparse section.
#include <bit>
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/bit_stream.hpp"

namespace gradcomp {

namespace {

// The smallest T not below λ: for T-valued x, |x| ≥ λ exactly when |x| ≥ this bound.
template <class T>
T threshold_in(double lambda) {
  T bound = static_cast<T>(lambda);
  if (static_cast<double>(bound) < lambda) bound = std::nextafter(bound, T(INFINITY));
  return bound;
}

template <class T>
void collect_above(std::span<const T> x, T bound, std::vector<std::uint32_t>& indices) {
  using Bits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  constexpr Bits kMagnitude = ~Bits{0} >> 1;
  const Bits bound_bits = std::bit_cast<Bits>(bound);
  const T* data = x.data();
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    if ((std::bit_cast<Bits>(data[i]) & kMagnitude) >= bound_bits) {
      indices.push_back(static_cast<std::uint32_t>(i));
    }
  }
}

class Threshold final : public TypedCompressor<Threshold> {
 public:
  explicit Threshold(const Params& params)
      : TypedCompressor(CompressorId::kThreshold, "threshold", params.canonical(),
                        params.choice("values")),
        lambda_(params.real("lambda")), index_(parse_index_choice(params.choice("index"))) {}

  [[nodiscard]] Properties properties() const override {
    return {false, false, false, false, false, ErrorBound::kAbsolute};
  }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    const double d = static_cast<double>(layout.total_size());
    return {{}, {}, d * lambda_ * lambda_, "upsilon^2 = d lambda^2 (S004 §5)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    SparseSegment part{Segment{0, layout.total_size(), 0}, {}};
    collect_above(x, threshold_in<T>(lambda_), part.indices);
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

CompressorEntry threshold_entry() {
  return {"threshold",
          "hard threshold: keep every coordinate with |x_j| >= lambda (S004)",
          "varint count + count x (value bits) + coded indices",
          {real_param("lambda", "0.001", 0, 1e300, "the threshold lambda"), index_param(),
           values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<Threshold>(p);
          }};
}

}  // namespace gradcomp
