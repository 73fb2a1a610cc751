#pragma once
// Compressor: the first box of one step (docs/architecture.md): p_i ─ encode ─▶ Message_i, and on
// the receiving side Message ─ decode(-and-accumulate) ─▶ dense vector.
//
// Ownership: encode returns a new Message that the caller owns; decode_add only adds into the
// caller's span (out += weight · C(x)), so a receiver sums n messages into one buffer without a
// temporary. decode overwrites. Nothing is done in place on the input.
//
// One instance belongs to one worker: stateful compressors (PowerSGD's power-iteration matrices)
// keep that worker's state, so encode is not const. Decoding needs no state and is const: its
// result depends only on the message, the layout and the context, and one instance may decode on
// several threads at once: no decode writes anything shared (sketch's memo of its random matrix
// is per thread).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/core/message.hpp"

namespace gradcomp {

// The wire code of each compressor (header byte 3). Never renumber: it is part of the format.
enum class CompressorId : std::uint8_t {
  kIdentity = 1,
  kFp16 = 2,
  kTopK = 3,
  kRandK = 4,
  kRbgs = 5,
  kThreshold = 6,
  kScaledSign = 7,
  kBlockSign = 8,
  kSign = 9,
  kQsgd = 10,
  kTernGrad = 11,
  kSketch = 12,
  kRounding = 13,
  kPowerSgd = 14,
  kScale = 15,
};

// Where the randomness of a step comes from. `seed` is the run's seed; shared-seed compressors use
// (seed, step, layer) only, private ones add the worker.
struct StepContext {
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::uint32_t worker = 0;
};

// Which kind of error guarantee the compressor has (docs/compressors.md §2.1).
enum class ErrorBound { kRelative, kAbsolute, kNone };

struct Properties {
  bool unbiased = false;  // E C(x) = x
  bool linear = false;    // C_t(a) + C_t(b) = C_t(a + b) under the shared seed: all-reducible
  bool randomized = false;
  bool shared_randomness = false;  // every worker draws the same randomness at a step
  bool stateful = false;           // keeps state between steps (PowerSGD)
  ErrorBound bound = ErrorBound::kRelative;
  // decode_add adds weight·v once to each coordinate the message carries, v read from the message
  // alone (out[i] += weight·v): adding weight times a decoded copy of the message, d elements at
  // once, gives the same bits (the exchange reuses a sender's own decode; Top-k, threshold,
  // Random-k, the sign family).
  bool elementwise_decode = false;
};

// A decode given as the coordinates a message carries and their decoded values (0 elsewhere).
template <class T>
struct SparseDecode {
  std::vector<std::uint32_t> indices;  // global, in the order the message carries them
  std::vector<T> values;
};

// The constants of docs/compressors.md §2.2 for these parameters and this layout, where the
// reference gives one: δ (E‖C(x) − x‖² ≤ (1 − δ)‖x‖²), ω (E‖Q(x)‖² ≤ (1 + ω)‖x‖²), υ² (E‖x − C(x)‖²
// ≤ υ²).
struct Constants {
  std::optional<double> delta;
  std::optional<double> omega;
  std::optional<double> upsilon2;
  std::string note;  // how they were derived, or why there is none
};

class Compressor {
 public:
  Compressor(CompressorId id, std::string name, std::string spec, std::string value_choice);
  virtual ~Compressor() = default;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  [[nodiscard]] CompressorId id() const { return id_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  // The canonical spec this instance was built from (all parameters, defaults filled in).
  [[nodiscard]] const std::string& spec() const { return spec_; }
  [[nodiscard]] virtual Properties properties() const = 0;
  [[nodiscard]] virtual Constants constants(const Layout& layout) const = 0;

  // x must have layout.total_size() finite elements; otherwise InvalidInput naming the index.
  Message encode(std::span<const float> x, const Layout& layout, const StepContext& context);
  Message encode(std::span<const double> x, const Layout& layout, const StepContext& context);
  // The same into an existing message, reusing its buffer: a training loop that keeps one message
  // per worker allocates (and page-faults) once, not every step.
  void encode(std::span<const float> x, const Layout& layout, const StepContext& context,
              Message& out);
  void encode(std::span<const double> x, const Layout& layout, const StepContext& context,
              Message& out);
  // The same, and `decoded` = decode(out): the same bits as decoding the message (−0 included), for
  // a sender that needs its own message's decode (error feedback's e = p − C(p)). A compressor
  // that knows C(x) from its encoding writes it directly (the sparse ones: no index decoding);
  // the others decode the message.
  void encode_and_decode(std::span<const float> x, const Layout& layout, const StepContext& context,
                         Message& out, std::span<float> decoded);
  void encode_and_decode(std::span<const double> x, const Layout& layout,
                         const StepContext& context, Message& out, std::span<double> decoded);
  // The same, but where the compressor knows the coordinates its message carries and there are
  // at most `limit` of them, the decode is given as those coordinates and their values (`sparse`,
  // the same bits as the dense decode there; `decoded` is not written) and returns true: a sender
  // whose message carries few coordinates then updates only those (error feedback's e ← p −
  // C(p) with p in e's storage). Otherwise as encode_and_decode, returning false.
  bool encode_and_decode_sparse(std::span<const float> x, const Layout& layout,
                                const StepContext& context, Message& out, std::span<float> decoded,
                                SparseDecode<float>& sparse, std::size_t limit);
  bool encode_and_decode_sparse(std::span<const double> x, const Layout& layout,
                                const StepContext& context, Message& out, std::span<double> decoded,
                                SparseDecode<double>& sparse, std::size_t limit);

  // out += weight · decoded(message). DecodeError if the message does not fit. The span forms
  // decode a message in place inside a larger buffer (the exchange's gathered bytes).
  void decode_add(std::span<const std::uint8_t> message, const Layout& layout,
                  const StepContext& context, std::span<float> out, float weight = 1.0F) const;
  void decode_add(std::span<const std::uint8_t> message, const Layout& layout,
                  const StepContext& context, std::span<double> out, double weight = 1.0) const;
  void decode_add(const Message& message, const Layout& layout, const StepContext& context,
                  std::span<float> out, float weight = 1.0F) const {
    decode_add(std::span<const std::uint8_t>(message.bytes), layout, context, out, weight);
  }
  void decode_add(const Message& message, const Layout& layout, const StepContext& context,
                  std::span<double> out, double weight = 1.0) const {
    decode_add(std::span<const std::uint8_t>(message.bytes), layout, context, out, weight);
  }
  // decode_add's header checks alone (compressor, length, fingerprint, value format for a float or
  // double output, step): DecodeError if they fail. For a caller that sizes its output from the
  // header's length, so that a corrupt length is refused before it is allocated.
  void check_header(std::span<const std::uint8_t> message, const Layout& layout,
                    const StepContext& context, bool double_output) const;
  template <class T>
  void decode(const Message& message, const Layout& layout, const StepContext& context,
              std::span<T> out) const {
    std::fill(out.begin(), out.end(), T{0});
    decode_add(message, layout, context, out, T{1});
  }

  // ---- The all-reduce path (exchange/allreduce.cpp) ----
  // A compressor whose message body is nothing but m values that add element-wise across
  // workers (identity, fp16, rbgs, shared-seed randk, sketch: docs/exchange.md §2.4, "linear
  // payload") reports m; the others report nothing. Workers' payloads can then be summed in any
  // transport and decoded once: decode(Σ payload_i) = Σ decode(payload_i).
  [[nodiscard]] virtual std::optional<std::size_t> payload_size(const Layout& /*layout*/) const {
    return std::nullopt;
  }
  // payload = the message's values, widened to T (the header is checked as decode checks it).
  void read_payload(std::span<const std::uint8_t> message, const Layout& layout,
                    const StepContext& context, std::span<float> payload) const;
  void read_payload(std::span<const std::uint8_t> message, const Layout& layout,
                    const StepContext& context, std::span<double> payload) const;
  // out += weight · decode of a payload (typically the sum of several workers' payloads).
  void decode_payload_add(std::span<const float> payload, const Layout& layout,
                          const StepContext& context, std::span<float> out, float weight) const;
  void decode_payload_add(std::span<const double> payload, const Layout& layout,
                          const StepContext& context, std::span<double> out, double weight) const;

  // The value format used for vectors of T ("auto" is fp32 for float and fp64 for double).
  template <class T>
  [[nodiscard]] ValueFormat value_format() const;

 protected:
  // Compressors whose encoding pass already sees every element answer true and call
  // reject_non_finite themselves, saving the separate finiteness pass over x.
  [[nodiscard]] virtual bool checks_finite_itself() const { return false; }
  // Throws the InvalidInput that names the first NaN or infinite element of x.
  template <class T>
  [[noreturn]] void reject_non_finite(std::span<const T> x, const Layout& layout) const;

  virtual void encode_body(std::span<const float> x, const Layout& layout,
                           const StepContext& context, std::vector<std::uint8_t>& out) = 0;
  virtual void encode_body(std::span<const double> x, const Layout& layout,
                           const StepContext& context, std::vector<std::uint8_t>& out) = 0;
  // Called right after encode_body(x, ...): writes the decode of the message just made into
  // `decoded` from what the encoding kept, without reading the message, and returns true; false
  // (the default) where it cannot, and the message is decoded instead.
  virtual bool decode_own(std::span<const float> /*x*/, std::span<float> /*decoded*/) const {
    return false;
  }
  virtual bool decode_own(std::span<const double> /*x*/, std::span<double> /*decoded*/) const {
    return false;
  }
  // The same as carried coordinates and values (SparseDecode), when there are at most `limit`;
  // false (the default) where it cannot or there are more.
  virtual bool decode_own_sparse(std::span<const float> /*x*/, const Layout& /*layout*/,
                                 const StepContext& /*context*/, std::size_t /*limit*/,
                                 SparseDecode<float>& /*sparse*/) const {
    return false;
  }
  virtual bool decode_own_sparse(std::span<const double> /*x*/, const Layout& /*layout*/,
                                 const StepContext& /*context*/, std::size_t /*limit*/,
                                 SparseDecode<double>& /*sparse*/) const {
    return false;
  }
  virtual void decode_body(ByteReader& reader, const Layout& layout, const StepContext& context,
                           std::span<float> out, float weight) const = 0;
  virtual void decode_body(ByteReader& reader, const Layout& layout, const StepContext& context,
                           std::span<double> out, double weight) const = 0;
  // Only for compressors with a payload_size: out += weight · decode(payload).
  virtual void scatter_payload(std::span<const float> payload, const Layout& layout,
                               const StepContext& context, std::span<float> out,
                               float weight) const;
  virtual void scatter_payload(std::span<const double> payload, const Layout& layout,
                               const StepContext& context, std::span<double> out,
                               double weight) const;

 private:
  // Checks the header against this compressor, the layout, T and the step; returns a reader at
  // the start of the body.
  template <class T>
  ByteReader open_message(std::span<const std::uint8_t> message, const Layout& layout,
                          const StepContext& context) const;
  template <class T>
  void read_payload_checked(std::span<const std::uint8_t> message, const Layout& layout,
                            const StepContext& context, std::span<T> payload) const;
  template <class T>
  void decode_payload_checked(std::span<const T> payload, const Layout& layout,
                              const StepContext& context, std::span<T> out, T weight) const;
  template <class T>
  void encode_checked(std::span<const T> x, const Layout& layout, const StepContext& context,
                      Message& out);
  template <class T>
  void decode_checked(std::span<const std::uint8_t> message, const Layout& layout,
                      const StepContext& context, std::span<T> out, T weight) const;
  template <class T>
  void encode_and_decode_checked(std::span<const T> x, const Layout& layout,
                                 const StepContext& context, Message& out, std::span<T> decoded);
  void check_decode_size(std::size_t size, const Layout& layout) const;
  // The decode of `sent`, just encoded from x: written from the encoding where the compressor
  // can (decode_own), else the message decoded.
  template <class T>
  void decode_sent(std::span<const T> x, const Layout& layout, const StepContext& context,
                   const Message& sent, std::span<T> decoded) const;
  template <class T>
  bool encode_and_decode_sparse_checked(std::span<const T> x, const Layout& layout,
                                        const StepContext& context, Message& out,
                                        std::span<T> decoded, SparseDecode<T>& sparse,
                                        std::size_t limit);
  [[nodiscard]] std::uint16_t fingerprint(const Layout& layout) const;

  CompressorId id_;
  std::string name_;
  std::string spec_;
  std::uint64_t spec_hash_;   // FNV-1a of spec_: where fingerprint starts
  std::string value_choice_;  // auto | fp32 | fp16 | fp64
};

// Routes the float and double virtuals to one template pair in the derived class:
//   template <class T> void encode_typed(std::span<const T>, const Layout&, const StepContext&,
//                                        std::vector<std::uint8_t>&);
//   template <class T> void decode_typed(ByteReader&, const Layout&, const StepContext&,
//                                        std::span<T>, T weight) const;
// and, for compressors with a linear payload,
//   template <class T> void scatter_typed(std::span<const T> payload, const Layout&,
//                                         const StepContext&, std::span<T>, T weight) const;
// and, for compressors that can write their own decode from the encoding (Compressor::decode_own,
// decode_own_sparse),
//   template <class T> bool decode_own_typed(std::span<const T> x, std::span<T> decoded) const;
//   template <class T> bool decode_own_sparse_typed(std::span<const T> x, const Layout&,
//                                                   const StepContext&, std::size_t limit,
//                                                   SparseDecode<T>&) const;
template <class Derived>
class TypedCompressor : public Compressor {
 public:
  using Compressor::Compressor;

 protected:
  void encode_body(std::span<const float> x, const Layout& layout, const StepContext& context,
                   std::vector<std::uint8_t>& out) final {
    self().encode_typed(x, layout, context, out);
  }
  void encode_body(std::span<const double> x, const Layout& layout, const StepContext& context,
                   std::vector<std::uint8_t>& out) final {
    self().encode_typed(x, layout, context, out);
  }
  void decode_body(ByteReader& reader, const Layout& layout, const StepContext& context,
                   std::span<float> out, float weight) const final {
    self().decode_typed(reader, layout, context, out, weight);
  }
  void decode_body(ByteReader& reader, const Layout& layout, const StepContext& context,
                   std::span<double> out, double weight) const final {
    self().decode_typed(reader, layout, context, out, weight);
  }
  bool decode_own(std::span<const float> x, std::span<float> decoded) const final {
    return own_decode(x, decoded);
  }
  bool decode_own(std::span<const double> x, std::span<double> decoded) const final {
    return own_decode(x, decoded);
  }
  bool decode_own_sparse(std::span<const float> x, const Layout& layout, const StepContext& context,
                         std::size_t limit, SparseDecode<float>& sparse) const final {
    return own_sparse_decode(x, layout, context, limit, sparse);
  }
  bool decode_own_sparse(std::span<const double> x, const Layout& layout,
                         const StepContext& context, std::size_t limit,
                         SparseDecode<double>& sparse) const final {
    return own_sparse_decode(x, layout, context, limit, sparse);
  }
  void scatter_payload(std::span<const float> payload, const Layout& layout,
                       const StepContext& context, std::span<float> out, float weight) const final {
    scatter(payload, layout, context, out, weight);
  }
  void scatter_payload(std::span<const double> payload, const Layout& layout,
                       const StepContext& context, std::span<double> out,
                       double weight) const final {
    scatter(payload, layout, context, out, weight);
  }

 private:
  template <class T>
  void scatter(std::span<const T> payload, const Layout& layout, const StepContext& context,
               std::span<T> out, T weight) const {
    if constexpr (requires { self().scatter_typed(payload, layout, context, out, weight); }) {
      self().scatter_typed(payload, layout, context, out, weight);
    } else {
      Compressor::scatter_payload(payload, layout, context, out, weight);
    }
  }
  template <class T>
  bool own_decode(std::span<const T> x, std::span<T> decoded) const {
    if constexpr (requires { self().decode_own_typed(x, decoded); }) {
      return self().decode_own_typed(x, decoded);
    } else {
      return false;
    }
  }
  template <class T>
  bool own_sparse_decode(std::span<const T> x, const Layout& layout, const StepContext& context,
                         std::size_t limit, SparseDecode<T>& sparse) const {
    if constexpr (requires { self().decode_own_sparse_typed(x, layout, context, limit, sparse); }) {
      return self().decode_own_sparse_typed(x, layout, context, limit, sparse);
    } else {
      return false;
    }
  }
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// The instruction set whose kernels run on this CPU ("AVX3" for AVX-512, "AVX2", "SSE4",
// "SCALAR" for the baseline, ...): portable builds compile each and choose at run time.
const char* simd_target();

// Index of the first NaN or infinite element, or x.size() if all are finite.
std::size_t first_non_finite(std::span<const float> x);
std::size_t first_non_finite(std::span<const double> x);

}  // namespace gradcomp
