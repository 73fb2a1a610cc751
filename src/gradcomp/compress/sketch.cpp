// Linear sketch S_V(x) = V(VᵀV)⁻¹Vᵀx with a shared random V ∈ ℝ^{d×p} ([Heterogeneous] eq (8);
// docs/compressors.md §2.3.13): the orthogonal projector onto range(V). The message is Vᵀx (p
// values); V is drawn again by the receiver from the shared stream of (seed, step), so the payloads
// of all workers can be summed (linear) and decoded once.
//   kind=gaussian  i.i.d. N(0,1) entries: δ = p/d in expectation; O(d·p²) to decode, so d·p is
//                  limited to 2^22 (the convex experiments' scale).
//   kind=hash      V_{i,b} = s_i·[h(i) = b] with random bucket h(i) and sign s_i: VᵀV is diagonal,
//                  encode and decode are O(d); δ ≈ p/d in expectation.
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

constexpr std::size_t kGaussianLimit = std::size_t{1} << 22;

class Sketch final : public TypedCompressor<Sketch> {
 public:
  Sketch(const Params& params, KeepCount keep)
      : TypedCompressor(CompressorId::kSketch, "sketch", params.canonical(),
                        params.choice("values")),
        keep_(keep),
        gaussian_(params.choice("kind") == "gaussian") {}

  [[nodiscard]] Properties properties() const override {
    return {false, true, true, true, false, ErrorBound::kRelative};
  }

  [[nodiscard]] Constants constants(const Layout& layout) const override {
    const std::size_t d = layout.total_size();
    if (d == 0) return {1.0, {}, {}, "empty vector"};
    return {static_cast<double>(keep_.of(d)) / static_cast<double>(d),
            {},
            {},
            gaussian_
                ? "delta = p/d in expectation (rotation-invariant V, docs/compressors.md §2.3.13)"
                : "delta ~ p/d in expectation (random buckets)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    const std::size_t d = layout.total_size();
    const std::size_t p = keep_.of(d);
    check_size(d, p);
    std::vector<double> y(p, 0.0);
    if (gaussian_) {
      const auto& v = gaussian_projector(context, d, p).matrix;
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < p; ++j) y[j] += v[i * p + j] * static_cast<double>(x[i]);
      }
    } else {
      const auto& buckets = hash_buckets(context, d, p);
      for (std::size_t i = 0; i < d; ++i) {
        y[buckets.bucket[i]] += buckets.sign[i] * static_cast<double>(x[i]);
      }
    }
    std::vector<T> payload(y.begin(), y.end());
    append_values<T>(out, payload, value_format<T>());
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext& context,
                    std::span<T> out, T weight) const {
    const std::size_t d = layout.total_size();
    std::vector<double> y(keep_.of(d));
    read_values<T>(reader, y.size(), value_format<T>(),
                   [&](std::size_t j, T value) { y[j] = static_cast<double>(value); });
    back_project_add(y, context, out, weight);
  }

  [[nodiscard]] std::optional<std::size_t> payload_size(const Layout& layout) const override {
    return keep_.of(layout.total_size());
  }
  template <class T>
  void scatter_typed(std::span<const T> payload, const Layout&, const StepContext& context,
                     std::span<T> out, T weight) const {
    const std::vector<double> y(payload.begin(), payload.end());
    back_project_add(y, context, out, weight);
  }

 private:
  // out += weight · V(VᵀV)⁻¹y: the decoded vector of sketch coordinates y.
  template <class T>
  void back_project_add(const std::vector<double>& y, const StepContext& context, std::span<T> out,
                        T weight) const {
    const std::size_t d = out.size();
    const std::size_t p = y.size();
    if (gaussian_) {
      GaussianProjector& projector = gaussian_projector(context, d, p);
      const auto& v = projector.matrix;
      const std::vector<double> z = projector.solve_gram(d, p, y);
      for (std::size_t i = 0; i < d; ++i) {
        double sum = 0;
        for (std::size_t j = 0; j < p; ++j) sum += v[i * p + j] * z[j];
        out[i] += weight * decoded_element<T>(sum, "sketch");
      }
    } else {
      const auto& buckets = hash_buckets(context, d, p);
      for (std::size_t i = 0; i < d; ++i) {
        const std::size_t b = buckets.bucket[i];
        out[i] += weight * static_cast<T>(buckets.sign[i] * y[b] / buckets.count[b]);
      }
    }
  }

  // V depends only on (seed, step, d, p): the encode and every decode of a step draw the same
  // one. Each thread memoizes the last V it drew (a memo, not state: a decode gives the same result
  // without it). Nothing shared is written, so one instance decodes on several threads at once
  // without a lock (the exchange's decode threads, the Python module without the GIL); each
  // thread draws V once per step.
  struct DrawKey {
    std::uint64_t seed = ~0ULL, step = ~0ULL;
    std::size_t d = 0, p = 0;
    bool operator==(const DrawKey&) const = default;
  };
  struct GaussianProjector {
    DrawKey key;
    std::vector<double> matrix;  // V, d × p row-major
    bool factored = false;
    std::vector<double> cholesky;  // L with VᵀV = LLᵀ, once factored

    // z = (VᵀV)⁻¹ y.
    std::vector<double> solve_gram(std::size_t d, std::size_t p, std::vector<double> y) {
      if (!factored) factor(d, p);
      for (std::size_t a = 0; a < p; ++a) {  // L w = y
        for (std::size_t c = 0; c < a; ++c) y[a] -= cholesky[a * p + c] * y[c];
        y[a] /= cholesky[a * p + a];
      }
      for (std::size_t a = p; a-- > 0;) {  // Lᵀ z = w
        for (std::size_t c = a + 1; c < p; ++c) y[a] -= cholesky[c * p + a] * y[c];
        y[a] /= cholesky[a * p + a];
      }
      return y;
    }
    void factor(std::size_t d, std::size_t p) {
      cholesky.assign(p * p, 0.0);
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t a = 0; a < p; ++a) {
          for (std::size_t b = 0; b <= a; ++b)
            cholesky[a * p + b] += matrix[i * p + a] * matrix[i * p + b];
        }
      }
      for (std::size_t a = 0; a < p; ++a) {
        for (std::size_t b = 0; b <= a; ++b) {
          double sum = cholesky[a * p + b];
          for (std::size_t c = 0; c < b; ++c) sum -= cholesky[a * p + c] * cholesky[b * p + c];
          if (a == b) {
            require(sum > 0, "sketch: V has rank < p (p = {} > d = {}?)", p, d);
            cholesky[a * p + a] = std::sqrt(sum);
          } else {
            cholesky[a * p + b] = sum / cholesky[b * p + b];
          }
        }
      }
      factored = true;
    }
  };
  struct Buckets {
    DrawKey key;
    std::vector<std::uint32_t> bucket;
    std::vector<double> sign;
    std::vector<double> count;
  };

  void check_size(std::size_t d, std::size_t p) const {
    require(!gaussian_ || d * p <= kGaussianLimit,
            "sketch: kind=gaussian with d = {} and p = {} needs d*p <= {} (it costs O(d p^2) per "
            "step); use kind=hash or a smaller p",
            d, p, kGaussianLimit);
  }

  GaussianProjector& gaussian_projector(const StepContext& context, std::size_t d,
                                        std::size_t p) const {
    check_size(d, p);
    thread_local GaussianProjector memo;
    const DrawKey key{context.seed, context.step, d, p};
    if (!(memo.key == key)) {
      memo.key = DrawKey{};  // a failed draw leaves no half-made V behind
      RandomStream stream(context.seed, Purpose::kSketch, context.step, 0, kSharedWorker);
      memo.matrix.resize(d * p);
      for (double& entry : memo.matrix) entry = stream.normal();
      memo.factored = false;
      memo.key = key;
    }
    return memo;
  }

  static const Buckets& hash_buckets(const StepContext& context, std::size_t d, std::size_t p) {
    thread_local Buckets memo;
    const DrawKey key{context.seed, context.step, d, p};
    if (!(memo.key == key)) {
      memo.key = DrawKey{};
      RandomStream stream(context.seed, Purpose::kSketch, context.step, 1, kSharedWorker);
      memo.bucket.resize(d);
      memo.sign.resize(d);
      memo.count.assign(p, 0.0);
      for (std::size_t i = 0; i < d; ++i) {
        memo.bucket[i] = static_cast<std::uint32_t>(stream.below(p));
        memo.sign[i] = (stream.next_u32() & 1U) != 0 ? -1.0 : 1.0;
        memo.count[memo.bucket[i]] += 1;
      }
      memo.key = key;
    }
    return memo;
  }

  KeepCount keep_;
  bool gaussian_;
};

}  // namespace

CompressorEntry sketch_entry() {
  return {"sketch",
          "linear sketch S_V(x) = V (V^T V)^-1 V^T x with a shared random V ([Heterogeneous] eq 8)",
          "p x (value bits)",
          {int_param("p", "", 1, 4294967295.0, "sketch size p (instead of ratio)"),
           real_param("ratio", "", 0, 1, "p = max(1, floor(ratio d)); default 0.01", true),
           choice_param("kind", "hash", {"hash", "gaussian"}, "distribution of V"), values_param()},
          [](const Params& p) -> std::unique_ptr<Compressor> {
            KeepCount keep = p.given("p") ? KeepCount{static_cast<std::size_t>(p.integer("p")), 0}
                                          : KeepCount{0, p.given("ratio") ? p.real("ratio") : 0.01};
            require(!(p.given("p") && p.given("ratio")),
                    "sketch: give either p (a size) or ratio, not both");
            return std::make_unique<Sketch>(p, keep);
          }};
}

}  // namespace gradcomp
