// PowerSGD (Vogels et al. 2019), rank r, as a single-message compressor: for every layer whose
// shape is a matrix M (rows × cols, the first dimension × the rest) with r < min(rows, cols),
// one power-iteration step warm-started from the previous step's Q:
//     P = M Q,  P ← orthonormalise(P) (Gram–Schmidt),  Q ← Mᵀ P,  C(M) = P Qᵀ.
// The message carries P and Q; other layers (vectors, small matrices) travel uncompressed.
// Q is this worker's state (initialised from the shared stream, so all workers start alike).
// Across workers PowerSGD all-reduces P and then Q in two rounds; that two-round exchange is the
// exchange box's job, this class gives the compression each worker applies.
#include <cmath>

#include "gradcomp/compress/common.hpp"
#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

class PowerSgd final : public TypedCompressor<PowerSgd> {
 public:
  explicit PowerSgd(const Params& params)
      : TypedCompressor(CompressorId::kPowerSgd, "powersgd", params.canonical(),
                        params.choice("values")),
        rank_(static_cast<std::size_t>(params.integer("rank"))) {}

  [[nodiscard]] Properties properties() const override {
    return {false, false, false, false, true, ErrorBound::kNone};
  }
  [[nodiscard]] Constants constants(const Layout&) const override {
    return {{}, {}, {}, "no constant: the error depends on the spectrum of each layer"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout& layout, const StepContext& context,
                    std::vector<std::uint8_t>& out) {
    if (q_.size() != layout.block_count()) q_.assign(layout.block_count(), {});
    std::vector<T> payload;
    for (std::size_t l = 0; l < layout.block_count(); ++l) {
      const Block& block = layout.blocks()[l];
      const auto m = x.subspan(block.offset, block.size);
      if (!low_rank(block)) {
        payload.insert(payload.end(), m.begin(), m.end());
        continue;
      }
      const std::size_t rows = block.rows(), cols = block.cols();
      std::vector<double>& q = q_[l];
      // A new layer, or one whose shape changed (the compressor moved to another layout).
      if (q.size() != cols * rank_) q = initial_q(context, l, cols);
      std::vector<double> p(rows * rank_, 0.0);  // P = M Q
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
          const double mij = static_cast<double>(m[i * cols + j]);
          for (std::size_t c = 0; c < rank_; ++c) p[i * rank_ + c] += mij * q[j * rank_ + c];
        }
      }
      orthonormalise(p, rows);
      std::fill(q.begin(), q.end(), 0.0);  // Q = Mᵀ P
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
          const double mij = static_cast<double>(m[i * cols + j]);
          for (std::size_t c = 0; c < rank_; ++c) q[j * rank_ + c] += mij * p[i * rank_ + c];
        }
      }
      for (const double v : p) payload.push_back(static_cast<T>(v));
      for (const double v : q) payload.push_back(static_cast<T>(v));
    }
    append_values<T>(out, payload, value_format<T>());
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    std::size_t count = 0;
    for (const Block& block : layout.blocks()) {
      count += low_rank(block) ? rank_ * (block.rows() + block.cols()) : block.size;
    }
    std::vector<double> payload(count);
    read_values<T>(reader, count, value_format<T>(),
                   [&](std::size_t i, T v) { payload[i] = static_cast<double>(v); });
    std::size_t at = 0;
    for (const Block& block : layout.blocks()) {
      if (!low_rank(block)) {
        for (std::size_t i = 0; i < block.size; ++i) {
          out[block.offset + i] += weight * static_cast<T>(payload[at + i]);
        }
        at += block.size;
        continue;
      }
      const std::size_t rows = block.rows(), cols = block.cols();
      const double* p = payload.data() + at;
      const double* q = p + rows * rank_;
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
          double sum = 0;
          for (std::size_t c = 0; c < rank_; ++c) sum += p[i * rank_ + c] * q[j * rank_ + c];
          out[block.offset + i * cols + j] += weight * decoded_element<T>(sum, "powersgd");
        }
      }
      at += rank_ * (rows + cols);
    }
  }

 private:
  [[nodiscard]] bool low_rank(const Block& block) const {
    return block.is_matrix() && rank_ < std::min(block.rows(), block.cols());
  }

  [[nodiscard]] std::vector<double> initial_q(const StepContext& context, std::size_t layer,
                                              std::size_t cols) const {
    RandomStream stream(context.seed, Purpose::kPowerSgdInit, 0, static_cast<std::uint32_t>(layer),
                        kSharedWorker);
    std::vector<double> q(cols * rank_);
    for (double& v : q) v = stream.normal();
    return q;
  }

  // Modified Gram–Schmidt on the columns of a rows × r row-major matrix; a column that vanishes
  // (rank-deficient M) stays zero.
  void orthonormalise(std::vector<double>& p, std::size_t rows) const {
    for (std::size_t c = 0; c < rank_; ++c) {
      for (std::size_t prev = 0; prev < c; ++prev) {
        double dot = 0;
        for (std::size_t i = 0; i < rows; ++i) dot += p[i * rank_ + c] * p[i * rank_ + prev];
        for (std::size_t i = 0; i < rows; ++i) p[i * rank_ + c] -= dot * p[i * rank_ + prev];
      }
      double norm = 0;
      for (std::size_t i = 0; i < rows; ++i) norm += p[i * rank_ + c] * p[i * rank_ + c];
      norm = std::sqrt(norm);
      for (std::size_t i = 0; i < rows; ++i) {
        p[i * rank_ + c] = norm > 1e-300 ? p[i * rank_ + c] / norm : 0.0;
      }
    }
  }

  std::size_t rank_;
  std::vector<std::vector<double>> q_;  // per layer, cols × r, row-major
};

}  // namespace

CompressorEntry powersgd_entry() {
  return {
      "powersgd",
      "PowerSGD: rank-r power iteration per 2-D layer, warm-started (Vogels et al.)",
      "sum over matrix layers of r (rows + cols) values + other layers uncompressed",
      {int_param("rank", "2", 1, 1024, "rank r of the approximation"), values_param()},
      [](const Params& p) -> std::unique_ptr<Compressor> { return std::make_unique<PowerSgd>(p); }};
}

}  // namespace gradcomp
