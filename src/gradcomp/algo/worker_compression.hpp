#pragma once
// The workers' side of one step, shared by every algorithm that compresses: one compressor per
// hosted worker (stateful compressors keep per-worker state), the message each worker sends, and
// the worker's own decode of that message — exactly what every other worker adds for it. On top,
// send_keeping_error is error feedback's "memory" around the compressor (GRACE and BytePS call it
// that): the part of the input the message did not carry stays with the worker.
//
// An algorithm states only its rule: what each worker feeds in (p = e + g, g − h, ...) and what
// it does with C(p) (e ← p − C(p), h ← h + αC(p), v ← v + C(p)); docs/architecture.md.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/elementwise.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

template <class T>
class WorkerCompression {
 public:
  // `seed` is the run's; a quantizer draws from streams of its own (quantizer_seed).
  WorkerCompression(const std::string& spec, const Layout& layout, std::uint64_t seed,
                    const WorkerGroup& workers, CompressorRole role = CompressorRole::kCompressor)
      : layout_(layout),
        seed_(role == CompressorRole::kCompressor ? seed : quantizer_seed(seed)),
        first_worker_(workers.first),
        decoder_(make_compressor(spec, role)),
        messages_(workers.count),
        decodes_(workers.count),
        sparse_decodes_(workers.count, nullptr),
        inputs_(workers.count),
        scaled_(workers.count),
        sent_(workers.count),
        carried_(workers.count) {
    compressors_.reserve(workers.count);
    for (std::size_t j = 0; j < workers.count; ++j) {
      compressors_.push_back(make_compressor(spec, role));
    }
  }

  // Local worker j sends v: its message holds C(v).
  void send(std::size_t j, std::span<const T> v, std::uint64_t step) {
    compressors_[j]->encode(v, layout_, context_of(step, j), messages_[j]);
    decodes_[j] = {};
    sparse_decodes_[j] = nullptr;
  }
  // The same, and returns C(v) as every receiver decodes it (valid until worker j's next call).
  std::span<const T> send_and_decode(std::size_t j, std::span<const T> v, std::uint64_t step) {
    const std::span<T> sent = own(sent_, j);
    compressors_[j]->encode_and_decode(v, layout_, context_of(step, j), messages_[j], sent);
    decodes_[j] = decoder_->properties().elementwise_decode ? sent : std::span<const T>{};
    sparse_decodes_[j] = nullptr;
    return sent;
  }

  // Error feedback with the compressor applied in units of `scale` (1, or γ for the scaled form
  // Δ = γ·C(p/γ) that absolute compressors need): sends C(p/scale), with p/scale computed as
  // p·(1/scale), and keeps e ← p − scale·C(p/scale). error may alias p, and p may be input(j).
  // Returns ‖e‖² (computed in the same pass where there is one, in double, as
  // AlgorithmBase::squared_norm would).
  double send_keeping_error(std::size_t j, std::span<const T> p, std::span<T> error,
                            std::uint64_t step, T scale = T{1}) {
    const std::optional<double> norm = send_keeping_error_norm_if_free(j, p, error, step, scale);
    return norm ? *norm : elementwise<T>().squared_norm(error.data(), error.size());
  }
  // The same, but ‖e‖² only where it comes with a pass that writes e: where the message carries
  // few coordinates and only those of e change, it would take a pass of its own, and the result
  // is nullopt: for a caller that reads e in a later pass anyway (DEF's z = x − κe).
  std::optional<double> send_keeping_error_norm_if_free(std::size_t j, std::span<const T> p,
                                                        std::span<T> error, std::uint64_t step,
                                                        T scale = T{1}) {
    const ElementwiseKernels<T>& kernels = elementwise<T>();
    std::span<const T> input = p;
    if (scale != T{1}) {
      const std::span<T> scaled = own(scaled_, j);
      // p·(1/s): a multiplication per element where a division took four times as long.
      kernels.multiply(p.data(), T{1} / scale, scaled.data(), p.size());
      input = scaled;
    }
    if (error.data() == p.data()) {
      // p is in e's storage: where the message carries few coordinates (at most d/64: decoding
      // it in the exchange then costs about one pass over d, the dense copy it would add
      // instead), only those change: elsewhere e = p − scale·0 = p, the same bits. ‖e‖² would
      // then need a pass that only reads: left to the caller.
      SparseDecode<T>& carried = carried_[j];
      if (compressors_[j]->encode_and_decode_sparse(input, layout_, context_of(step, j),
                                                    messages_[j], own(sent_, j), carried,
                                                    p.size() / 64)) {
        decodes_[j] = {};
        sparse_decodes_[j] = decoder_->properties().elementwise_decode ? &carried : nullptr;
        for (std::size_t k = 0; k < carried.indices.size(); ++k) {
          const std::uint32_t i = carried.indices[k];
          error[i] = p[i] - scale * carried.values[k];
        }
        return std::nullopt;
      }
      const std::span<const T> sent = sent_[j];
      decodes_[j] = decoder_->properties().elementwise_decode ? sent : std::span<const T>{};
      sparse_decodes_[j] = nullptr;
      return kernels.subtract_scaled_norm(p.data(), scale, sent.data(), error.data(), p.size());
    }
    const std::span<const T> sent = send_and_decode(j, input, step);
    // scale = 1: p − 1·C = p − C exactly.
    return kernels.subtract_scaled_norm(p.data(), scale, sent.data(), error.data(), p.size());
  }

  // A d-vector of local worker j's own, to build its input in (p = e + g, ...) before sending it.
  // Every buffer here is per worker, so the workers' sends can run on several threads.
  [[nodiscard]] std::span<T> input(std::size_t j) { return own(inputs_, j); }
  // The settings every worker's message is decoded with (decoding needs no state).
  [[nodiscard]] const Compressor& codec() const { return *decoder_; }
  [[nodiscard]] const std::vector<Message>& messages() const { return messages_; }
  // Each worker's decode of this step's message where send_and_decode made one (else empty): the
  // exchange adds these instead of decoding the messages again (Round).
  [[nodiscard]] std::span<const std::span<const T>> decodes() const { return decodes_; }
  // Each worker's decode as the coordinates its message carries, where the send gave it so
  // (send_keeping_error with few coordinates; else null): the exchange adds these, the same bits.
  [[nodiscard]] std::span<const SparseDecode<T>* const> sparse_decodes() const {
    return sparse_decodes_;
  }
  // The seed every receiver decodes these messages with.
  [[nodiscard]] std::uint64_t seed() const { return seed_; }
  // Where local worker j's randomness at `step` comes from.
  [[nodiscard]] StepContext context_of(std::uint64_t step, std::size_t j) const {
    return {seed_, step, static_cast<std::uint32_t>(first_worker_ + j)};
  }

 private:
  const Layout& layout_;
  std::uint64_t seed_;
  std::size_t first_worker_;
  std::vector<std::unique_ptr<Compressor>> compressors_;
  std::unique_ptr<Compressor> decoder_;
  // Worker j's d-vector of `buffers`, allocated on first use (only by worker j's task).
  std::span<T> own(std::vector<std::vector<T>>& buffers, std::size_t j) {
    std::vector<T>& buffer = buffers[j];
    if (buffer.size() != layout_.total_size()) buffer.resize(layout_.total_size());
    return buffer;
  }

  std::vector<Message> messages_;
  std::vector<std::span<const T>> decodes_;
  std::vector<const SparseDecode<T>*> sparse_decodes_;
  std::vector<std::vector<T>> inputs_;
  std::vector<std::vector<T>> scaled_;    // p/scale
  std::vector<std::vector<T>> sent_;      // C(v) as decoded
  std::vector<SparseDecode<T>> carried_;  // C(v) as carried coordinates, when it has few
};

}  // namespace gradcomp
