// Top-k, whole-model or layer-wise (docs/compressors.md §2.3.3). Deterministic and biased, δ = k/d
// (layer-wise: min_l k_l/d_l). The k of each segment follows from the parameters and the layout,
// so the message carries no count: a sparse section (sparse_codec.hpp) of exactly Σ k_l entries.
#include <algorithm>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/compress/topk_select.hpp"

namespace gradcomp {

namespace {

class TopK final : public TypedCompressor<TopK> {
 public:
  TopK(const Params& params, KeepCount keep)
      : TypedCompressor(CompressorId::kTopK, "topk", params.canonical(), params.choice("values")),
        keep_(keep),
        scope_(parse_scope(params.choice("scope"))),
        index_(parse_index_choice(params.choice("index"))) {}

  [[nodiscard]] Properties properties() const override {
    Properties properties;
    properties.elementwise_decode = true;
    return properties;
  }
  [[nodiscard]] bool checks_finite_itself() const override { return true; }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    double delta = 1;
    for (const Segment& s : make_segments(layout, scope_)) {
      if (s.size > 0) delta = std::min(delta, fraction(keep_.of(s.size), s.size));
    }
    return {delta,
            {},
            {},
            scope_ == Scope::kModel ? "delta = k/d ([HardThreshold] §4.5)"
                                    : "delta = min_l k_l/d_l (docs/compressors.md §2.3.3)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    // parts_ and values keep their buffers between steps; the selection hands back the kept
    // values in index order, so x is not read a second time at scattered places.
    thread_local std::vector<T> values;
    values.clear();
    const auto segments = make_segments(layout, scope_);
    parts_.resize(segments.size());
    for (std::size_t l = 0; l < segments.size(); ++l) {
      const Segment& s = segments[l];
      parts_[l].segment = s;
      if (!select_top_k(x.subspan(s.offset, s.size), keep_.of(s.size), context.seed ^ s.layer,
                        parts_[l].indices, &values)) {
        reject_non_finite(x, layout);
      }
    }
    write_sparse_indices(out, parts_, index_);
    append_values<T>(out, values, value_format<T>());
  }

  template <class T>
  bool decode_own_typed(std::span<const T> x, std::span<T> decoded) const {
    if (!carries_exactly<T>(value_format<T>())) return false;
    std::fill(decoded.begin(), decoded.end(), T{0});
    for (const SparseSegment& part : parts_) {
      if (!scatter_sparse_decode(x, part, T{1}, decoded)) return false;
    }
    return true;
  }

  template <class T>
  bool decode_own_sparse_typed(std::span<const T> x, const Layout&, const StepContext&,
                               std::size_t limit, SparseDecode<T>& sparse) const {
    if (!carries_exactly<T>(value_format<T>()) || kept_count() > limit) return false;
    for (const SparseSegment& part : parts_) {
      if (!append_sparse_decode(x, part, T{1}, sparse)) return false;
    }
    return true;
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const auto segments = make_segments(layout, scope_);
#ifdef GRADCOMP_FUZZ_PLANTED_DEFECT
    // The defect the fuzzing must find (tests/fuzz/planted_defect.sh; never in a real build).
    // A last byte no seed ends with: the fuzzer must find it (its comparison is instrumented).
    if (const auto rest = reader.rest(); !rest.empty() && rest.back() == 0xC3) {
      const volatile std::uint8_t past_the_end = rest.data()[rest.size()];
      (void)past_the_end;
    }
#endif
    read_sparse_add(reader, segments, keep_counts(segments, keep_), value_format<T>(), out, weight);
  }

 private:
  [[nodiscard]] std::size_t kept_count() const {
    std::size_t count = 0;
    for (const SparseSegment& part : parts_) count += part.indices.size();
    return count;
  }

  KeepCount keep_;
  Scope scope_;
  IndexChoice index_;
  std::vector<SparseSegment> parts_;
};

}  // namespace

CompressorEntry topk_entry() {
  return {"topk",
          "keep the k largest-magnitude coordinates (whole model or per layer)",
          "sum over segments of k_l x (value bits) + coded indices (fixed ceil(log2 d_l) or rice)",
          {k_param(), ratio_param(), scope_param("model"), index_param(), values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<TopK>(p, parse_keep_count("topk", p, 0.01));
          }};
}

}  // namespace gradcomp
