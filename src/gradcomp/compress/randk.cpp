// Random-k (docs/compressors.md §2.3.4) and its unbiased rescaling by d/k (§2.3.5).
// shared=true: indices from the shared stream keyed by (seed, step, layer), identical on every
// worker, so only the k values travel and C_t is linear (all-reducible). shared=false: each worker
// draws its own indices (stream keyed by its worker id too) and sends them.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <vector>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

// Floyd's sampling of k distinct indices of [0, n), as a bitmap of n bits.
std::vector<std::uint64_t> sample_bitmap(RandomStream& stream, std::size_t n, std::size_t k) {
  std::vector<std::uint64_t> taken((n + 63) / 64, 0);
  for (std::size_t j = n - k; j < n; ++j) {
    const std::size_t t = stream.below(j + 1);
    // j where t is taken already, without a branch: at high densities a pick hits a taken index
    // often and unpredictably (about k/n of the time by the end).
    const std::size_t hit = (taken[t >> 6] >> (t & 63)) & 1U;
    const std::size_t pick = t ^ ((t ^ j) & (0 - hit));
    taken[pick >> 6] |= std::uint64_t{1} << (pick & 63);
  }
  return taken;
}

// Calls kept(i) for every index the bitmap holds, ascending.
template <class Kept>
void for_each_taken(const std::vector<std::uint64_t>& taken, Kept&& kept) {
  for (std::size_t w = 0; w < taken.size(); ++w) {
    for (std::uint64_t word = taken[w]; word != 0; word &= word - 1) {
      kept(static_cast<std::uint32_t>(w * 64 + std::countr_zero(word)));
    }
  }
}

class RandK final : public TypedCompressor<RandK> {
 public:
  RandK(const Params& params, KeepCount keep)
      : TypedCompressor(CompressorId::kRandK, "randk", params.canonical(), params.choice("values")),
        keep_(keep),
        scope_(parse_scope(params.choice("scope"))),
        index_(parse_index_choice(params.choice("index"))),
        shared_(params.flag("shared")),
        unbiased_(params.flag("unbiased")) {}

  [[nodiscard]] Properties properties() const override {
    return {unbiased_, shared_, true, shared_, false, ErrorBound::kRelative, true};
  }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    double smallest = 1;
    for (const Segment& s : make_segments(layout, scope_)) {
      if (s.size > 0) smallest = std::min(smallest, fraction(keep_.of(s.size), s.size));
    }
    if (unbiased_)
      return {{}, 1.0 / smallest - 1.0, {}, "omega = d/k - 1 (docs/compressors.md §2.3.5)"};
    return {smallest, {}, {}, "delta = k/d in expectation ([Heterogeneous] §3.4)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    // The values are read from x while the bitmap is turned into indices, not gathered from x
    // afterwards: their loads overlap the scan's serial chain. values keeps its buffer.
    thread_local std::vector<T> values;
    values.clear();
    parts_ = draw(layout, context, x, &values);
    if (!shared_) write_sparse_indices(out, parts_, index_);
    append_values<T>(out, values, value_format<T>());
  }

  template <class T>
  bool decode_own_typed(std::span<const T> x, std::span<T> decoded) const {
    if (!carries_exactly<T>(value_format<T>())) return false;
    std::fill(decoded.begin(), decoded.end(), T{0});
    for (const SparseSegment& part : parts_) {
      if (!scatter_sparse_decode(x, part, scale_of<T>(part), decoded)) return false;
    }
    return true;
  }

  template <class T>
  bool decode_own_sparse_typed(std::span<const T> x, const Layout&, const StepContext&,
                               std::size_t limit, SparseDecode<T>& sparse) const {
    std::size_t count = 0;
    for (const SparseSegment& part : parts_) count += part.indices.size();
    if (!carries_exactly<T>(value_format<T>()) || count > limit) return false;
    for (const SparseSegment& part : parts_) {
      if (!append_sparse_decode(x, part, scale_of<T>(part), sparse)) return false;
    }
    return true;
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext& context,
                    std::span<T> out, T weight) const {
    if (!shared_) {
      const auto segments = make_segments(layout, scope_);
      read_sparse_add(reader, segments, keep_counts(segments, keep_), value_format<T>(), out,
                      weight);
      return;
    }
    std::vector<std::size_t> indices;  // drawn from the shared seed, not sent
    for (const auto& part : draw(layout, context)) {
      for (const std::uint32_t i : part.indices) indices.push_back(part.segment.offset + i);
    }
    read_values<T>(reader, indices.size(), value_format<T>(),
                   [&](std::size_t i, T value) { out[indices[i]] += weight * value; });
  }

  // Only the shared-seed form is a linear payload: private indices differ between workers.
  [[nodiscard]] std::optional<std::size_t> payload_size(const Layout& layout) const override {
    if (!shared_) return std::nullopt;
    std::size_t size = 0;
    for (const std::size_t k : keep_counts(make_segments(layout, scope_), keep_)) size += k;
    return size;
  }
  template <class T>
  void scatter_typed(std::span<const T> payload, const Layout& layout, const StepContext& context,
                     std::span<T> out, T weight) const {
    std::size_t j = 0;
    for (const auto& part : draw(layout, context)) {
      for (const std::uint32_t i : part.indices)
        out[part.segment.offset + i] += weight * payload[j++];
    }
  }

 private:
  // d_l/k_l for the unbiased form, else 1.
  template <class T>
  [[nodiscard]] T scale_of(const SparseSegment& part) const {
    return unbiased_ && !part.indices.empty()
               ? static_cast<T>(static_cast<double>(part.segment.size) /
                                static_cast<double>(part.indices.size()))
               : T{1};
  }
  // The kept coordinates of every segment, drawn from the step's stream; with `values`, also
  // the values scale·x[offset + i] of every kept i, in the same order (what the message carries).
  template <class T = float>
  [[nodiscard]] std::vector<SparseSegment> draw(const Layout& layout, const StepContext& context,
                                                std::span<const T> x = {},
                                                std::vector<T>* values = nullptr) const {
    std::vector<SparseSegment> parts;
    for (const Segment& s : make_segments(layout, scope_)) {
      RandomStream stream(context.seed, Purpose::kRandKIndices, context.step,
                          static_cast<std::uint32_t>(s.layer),
                          shared_ ? kSharedWorker : context.worker);
      const std::size_t k = keep_.of(s.size);
      const std::vector<std::uint64_t> taken = sample_bitmap(stream, s.size, k);
      SparseSegment& part = parts.emplace_back(SparseSegment{s, std::vector<std::uint32_t>(k), {}});
      std::uint32_t* index = part.indices.data();
      if (values == nullptr) {
        for_each_taken(taken, [&](std::uint32_t i) { *index++ = i; });
        continue;
      }
      const std::size_t at = values->size();
      values->resize(at + k);
      T* value = values->data() + at;
      const T* base = x.data() + s.offset;
      const T scale = scale_of<T>(part);
      for_each_taken(taken, [&](std::uint32_t i) {
        *index++ = i;
        *value++ = scale * base[i];
      });
      if (scale != T{1}) check_rescaled(part, std::span<const T>(*values).subspan(at), x, layout);
    }
    return parts;
  }

  // d/k times a finite x can overflow T: named here, as an encoder names a value its format
  // cannot hold (ValueOverflow), instead of sent as an infinity every receiver refuses.
  template <class T>
  static void check_rescaled(const SparseSegment& part, std::span<const T> values,
                             std::span<const T> x, const Layout& layout) {
    const std::size_t first = first_non_finite(values);
    if (first == values.size()) return;
    const std::size_t bad = part.segment.offset + part.indices[first];
    throw ValueOverflow(fmt::format(
        "x = {} at index {} (layer '{}') rescaled by d/k = {} overflows {}; lower the step size "
        "or set unbiased = false",
        static_cast<double>(x[bad]), bad, layout.block_of(bad).name,
        static_cast<double>(part.segment.size) / static_cast<double>(part.indices.size()),
        std::is_same_v<T, float> ? "float" : "double"));
  }

  KeepCount keep_;
  Scope scope_;
  IndexChoice index_;
  bool shared_;
  std::vector<SparseSegment> parts_;  // the last encoding's kept coordinates
  bool unbiased_;
};

}  // namespace

CompressorEntry randk_entry() {
  return {"randk",
          "keep k uniformly random coordinates; shared seed (values only, linear) or private",
          "shared: k x (value bits); private: + coded indices",
          {k_param(), ratio_param(),
           bool_param("shared", "true", "indices from the shared seed (identical on all workers)"),
           bool_param("unbiased", "false", "rescale kept values by d/k so that E C(x) = x"),
           scope_param("model"), index_param(), values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            return std::make_unique<RandK>(p, parse_keep_count("randk", p, 0.01));
          }};
}

}  // namespace gradcomp
