#include "gradcomp/compress/rbgs.hpp"

#include <algorithm>
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

std::size_t rbgs_block_size(std::size_t segment_size, double ratio) {
  if (segment_size == 0) return 0;
  const auto k = static_cast<std::size_t>(std::floor(static_cast<double>(segment_size) / ratio));
  return std::clamp<std::size_t>(k, 1, segment_size);
}

std::size_t rbgs_start(const StepContext& context, const Segment& segment) {
  if (segment.size == 0) return 0;
  RandomStream stream(context.seed, Purpose::kRbgsStart, context.step,
                      static_cast<std::uint32_t>(segment.layer), kSharedWorker);
  return stream.below(segment.size);
}

namespace {

class Rbgs final : public TypedCompressor<Rbgs> {
 public:
  explicit Rbgs(const Params& params)
      : TypedCompressor(CompressorId::kRbgs, "rbgs", params.canonical(), params.choice("values")),
        ratio_(params.real("ratio")),
        scope_(parse_scope(params.choice("scope"))) {}

  [[nodiscard]] Properties properties() const override {
    return {false, true, true, true, false, ErrorBound::kRelative};
  }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    double delta = 1;
    for (const Segment& s : make_segments(layout, scope_)) {
      if (s.size > 0) delta = std::min(delta, fraction(rbgs_block_size(s.size, ratio_), s.size));
    }
    return {
        delta, {}, {}, "delta = min_l k_l/d_l in expectation over the start ([DEF] Remark 4.11)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    // Kept between encodes: a fresh vector grew by reallocation in every worker's encode.
    std::vector<T>& payload = payload_.of<T>();
    payload.clear();
    for_each_kept(layout, context, [&](std::size_t i) { payload.push_back(x[i]); });
    append_values<T>(out, payload, value_format<T>());
  }

  // The block's coordinates and 0 + x there, where the value format carries T exactly.
  template <class T>
  bool decode_own_sparse_typed(std::span<const T> x, const Layout& layout,
                               const StepContext& context, std::size_t limit,
                               SparseDecode<T>& sparse) const {
    if (!carries_exactly<T>(value_format<T>())) return false;
    for_each_kept(layout, context, [&](std::size_t i) {
      sparse.indices.push_back(static_cast<std::uint32_t>(i));
      sparse.values.push_back(T{0} + x[i]);
    });
    return sparse.indices.size() <= limit;
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext& context,
                    std::span<T> out, T weight) const {
    thread_local std::vector<std::size_t> positions;  // the thread's own: no allocation per decode
    positions.clear();
    for_each_kept(layout, context, [&](std::size_t i) { positions.push_back(i); });
    read_values<T>(reader, positions.size(), value_format<T>(),
                   [&](std::size_t j, T value) { out[positions[j]] += weight * value; });
  }

  [[nodiscard]] std::optional<std::size_t> payload_size(const Layout& layout) const override {
    std::size_t size = 0;
    for_each_segment(layout, scope_, 0,
                     [&](const Segment& s) { size += rbgs_block_size(s.size, ratio_); });
    return size;
  }
  template <class T>
  void scatter_typed(std::span<const T> payload, const Layout& layout, const StepContext& context,
                     std::span<T> out, T weight) const {
    std::size_t j = 0;
    for_each_kept(layout, context, [&](std::size_t i) { out[i] += weight * payload[j++]; });
  }

 private:
  template <class Visit>
  void for_each_kept(const Layout& layout, const StepContext& context, Visit&& visit) const {
    for_each_segment(layout, scope_, 0, [&](const Segment& s) {
      const std::size_t k = rbgs_block_size(s.size, ratio_);
      const std::size_t start = rbgs_start(context, s);
      for (std::size_t j = 0; j < k; ++j) visit(s.offset + rbgs_position(start, j, s.size));
    });
  }

  double ratio_;
  Scope scope_;
  TypedScratch payload_;  // the last encode's kept values
};

}  // namespace

CompressorEntry rbgs_entry() {
  return {
      "rbgs",
      "random block of d_l/r consecutive coordinates per layer, shared seed, wrap-around ([DEF])",
      "sum over segments of k_l x (value bits); no indices (the start comes from the seed)",
      {real_param("ratio", "64", 1, 1e12, "compression ratio r: k_l = max(1, floor(d_l/r))"),
       scope_param("layer"), values_param()},
      [](const Params& p) -> std::unique_ptr<Compressor> { return std::make_unique<Rbgs>(p); }};
}

}  // namespace gradcomp
