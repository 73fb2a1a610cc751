#include "gradcomp/compress/compressor.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/fnv_hash.hpp"

// The finiteness scan, once per instruction set (Highway's dynamic dispatch: this file is
// compiled once per target by foreach_target, and HWY_ONCE marks the part compiled once).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/compressor.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "gradcomp/core/simd_masks-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace simd = gradcomp::simd::HWY_NAMESPACE;

template <class T>
std::size_t first_non_finite_in(std::span<const T> x) {
  const std::size_t whole = x.size() - x.size() % simd::kBlock;
  std::size_t start = 0;
  for (; start < whole; start += simd::kBlock) {
    if (simd::any_magnitude_at_least(x.data() + start, simd::kInfinityBits<T>)) break;
  }
  for (std::size_t i = start; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return i;
  }
  return x.size();
}
std::size_t first_non_finite_float(std::span<const float> x) {
  return first_non_finite_in(x);
}
const char* target_name() {
  return hwy::TargetName(HWY_TARGET);
}
std::size_t first_non_finite_double(std::span<const double> x) {
  return first_non_finite_in(x);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(first_non_finite_float);
HWY_EXPORT(first_non_finite_double);
HWY_EXPORT(target_name);

const char* simd_target() {
  return HWY_DYNAMIC_DISPATCH(target_name)();
}

std::size_t first_non_finite(std::span<const float> x) {
  return HWY_DYNAMIC_DISPATCH(first_non_finite_float)(x);
}
std::size_t first_non_finite(std::span<const double> x) {
  return HWY_DYNAMIC_DISPATCH(first_non_finite_double)(x);
}

Compressor::Compressor(CompressorId id, std::string name, std::string spec,
                       std::string value_choice)
    : id_(id),
      name_(std::move(name)),
      spec_(std::move(spec)),
      spec_hash_(FnvHash().add_text(spec_).value()),
      value_choice_(std::move(value_choice)) {}

template <class T>
ValueFormat Compressor::value_format() const {
  if (value_choice_ == "fp16") return ValueFormat::kFp16;
  if (value_choice_ == "fp32") return ValueFormat::kFp32;
  if (value_choice_ == "fp64") return ValueFormat::kFp64;
  return std::is_same_v<T, float> ? ValueFormat::kFp32 : ValueFormat::kFp64;
}
template ValueFormat Compressor::value_format<float>() const;
template ValueFormat Compressor::value_format<double>() const;

std::uint16_t Compressor::fingerprint(const Layout& layout) const {
  // FNV-1a over the canonical spec and the block shapes: two workers configured differently
  // (other parameters, other layout) produce different fingerprints with probability 1 − 2^−16.
  // The spec's part is hashed once, at construction: every message's encode and decode asks.
  std::uint64_t hash = spec_hash_;
  auto add = [&hash](std::uint64_t byte) {
    hash ^= byte;
    hash *= 0x100000001B3ULL;
  };
  auto add_number = [&add](std::size_t v) {
    for (int shift = 0; shift < 64; shift += 8) add((v >> shift) & 0xFFU);
  };
  for (const Block& block : layout.blocks()) {
    add_number(block.size);
    add_number(block.shape.size());
    for (const std::size_t dim : block.shape) add_number(dim);
  }
  return static_cast<std::uint16_t>(hash ^ (hash >> 16) ^ (hash >> 32) ^ (hash >> 48));
}

template <class T>
void Compressor::reject_non_finite(std::span<const T> x, const Layout& layout) const {
  const std::size_t bad = first_non_finite(x);
  require<InternalError>(bad < x.size(), "{}: reported a non-finite element that is not there",
                         name_);
  throw NonFiniteInput(
      fmt::format("{}: the vector holds {} at index {} (layer '{}'); compressors "
                  "need finite input",
                  name_, static_cast<double>(x[bad]), bad, layout.block_of(bad).name));
}
template void Compressor::reject_non_finite<float>(std::span<const float>, const Layout&) const;
template void Compressor::reject_non_finite<double>(std::span<const double>, const Layout&) const;

template <class T>
void Compressor::encode_checked(std::span<const T> x, const Layout& layout,
                                const StepContext& context, Message& message) {
  require(x.size() == layout.total_size(),
          "{}: the vector has {} elements but the layout describes {}", name_, x.size(),
          layout.total_size());
  require(x.size() <= std::numeric_limits<std::uint32_t>::max(),
          "{}: vectors of {} elements exceed the wire format's limit of 2^32 − 1; split the model",
          name_, x.size());
  if (!checks_finite_itself() && first_non_finite(x) != x.size()) reject_non_finite(x, layout);
  message.bytes.clear();
  MessageHeader header;
  header.compressor = static_cast<std::uint8_t>(id_);
  header.values = value_format<T>();
  header.fingerprint = fingerprint(layout);
  header.length = static_cast<std::uint32_t>(x.size());
  header.step = static_cast<std::uint32_t>(context.step);
  header.append_to(message.bytes);
  try {
    encode_body(x, layout, context, message.bytes);
  } catch (const ValueOverflow& e) {
    throw ValueOverflow(fmt::format("{}: {}", name_, e.what()));
  }
}

template <class T>
void Compressor::encode_and_decode_checked(std::span<const T> x, const Layout& layout,
                                           const StepContext& context, Message& out,
                                           std::span<T> decoded) {
  check_decode_size(decoded.size(), layout);
  encode_checked(x, layout, context, out);
  decode_sent(x, layout, context, out, decoded);
}

template <class T>
bool Compressor::encode_and_decode_sparse_checked(std::span<const T> x, const Layout& layout,
                                                  const StepContext& context, Message& out,
                                                  std::span<T> decoded, SparseDecode<T>& sparse,
                                                  std::size_t limit) {
  check_decode_size(decoded.size(), layout);
  encode_checked(x, layout, context, out);
  sparse.indices.clear();
  sparse.values.clear();
  if (decode_own_sparse(x, layout, context, limit, sparse)) return true;
  decode_sent(x, layout, context, out, decoded);
  return false;
}

void Compressor::check_decode_size(std::size_t size, const Layout& layout) const {
  require(size == layout.total_size(),
          "{}: the decode's output has {} elements but the layout describes {}", name_, size,
          layout.total_size());
}

template <class T>
void Compressor::decode_sent(std::span<const T> x, const Layout& layout, const StepContext& context,
                             const Message& sent, std::span<T> decoded) const {
  if (decode_own(x, decoded)) return;
  std::fill(decoded.begin(), decoded.end(), T{0});
  decode_checked(std::span<const std::uint8_t>(sent.bytes), layout, context, decoded, T{1});
}

template <class T>
ByteReader Compressor::open_message(std::span<const std::uint8_t> message, const Layout& layout,
                                    const StepContext& context) const {
  const MessageHeader header = MessageHeader::parse(message);
  require<DecodeError>(header.compressor == static_cast<std::uint8_t>(id_),
                       "message was made by compressor #{}, not by {} (#{})", header.compressor,
                       name_, static_cast<int>(id_));
  require<DecodeError>(header.length == layout.total_size(),
                       "{}: message encodes {} elements, the layout has {}", name_, header.length,
                       layout.total_size());
  const auto expected = fingerprint(layout);  // once: require's arguments are always evaluated
  require<DecodeError>(header.fingerprint == expected,
                       "{}: message was made with other settings or another layout "
                       "(fingerprint {:#06x}, expected {:#06x} for '{}')",
                       name_, header.fingerprint, expected, spec_);
  require<DecodeError>(header.values == value_format<T>(),
                       "{}: message carries {} values, expected {}", name_,
                       value_format_name(header.values), value_format_name(value_format<T>()));
  require<DecodeError>(header.step == static_cast<std::uint32_t>(context.step),
                       "{}: message is from step {}, the receiver is at step {}", name_,
                       header.step, static_cast<std::uint32_t>(context.step));
  return ByteReader(message, MessageHeader::kBytes);
}

template <class T>
void Compressor::decode_checked(std::span<const std::uint8_t> message, const Layout& layout,
                                const StepContext& context, std::span<T> out, T weight) const {
  require(out.size() == layout.total_size(),
          "{}: the output has {} elements but the layout describes {}", name_, out.size(),
          layout.total_size());
  ByteReader reader = open_message<T>(message, layout, context);
  decode_body(reader, layout, context, out, weight);
  require<DecodeError>(reader.remaining() == 0, "{}: message has {} unexpected trailing bytes",
                       name_, reader.remaining());
}

template <class T>
void Compressor::read_payload_checked(std::span<const std::uint8_t> message, const Layout& layout,
                                      const StepContext& context, std::span<T> payload) const {
  const std::optional<std::size_t> size = payload_size(layout);
  require(size.has_value(),
          "{}: its messages are not a linear payload; exchange them by "
          "allgather, not allreduce",
          name_);
  require(payload.size() == *size, "{}: the payload buffer has {} elements, the payload {}", name_,
          payload.size(), *size);
  ByteReader reader = open_message<T>(message, layout, context);
  read_values<T>(reader, *size, value_format<T>(), [&](std::size_t i, T v) { payload[i] = v; });
  require<DecodeError>(reader.remaining() == 0, "{}: message has {} unexpected trailing bytes",
                       name_, reader.remaining());
}

template <class T>
void Compressor::decode_payload_checked(std::span<const T> payload, const Layout& layout,
                                        const StepContext& context, std::span<T> out,
                                        T weight) const {
  const std::optional<std::size_t> size = payload_size(layout);
  require(size.has_value(),
          "{}: its messages are not a linear payload; exchange them by "
          "allgather, not allreduce",
          name_);
  require(payload.size() == *size && out.size() == layout.total_size(),
          "{}: payload of {} and output of {} elements, expected {} and {}", name_, payload.size(),
          out.size(), *size, layout.total_size());
  scatter_payload(payload, layout, context, out, weight);
}

void Compressor::scatter_payload(std::span<const float>, const Layout&, const StepContext&,
                                 std::span<float>, float) const {
  throw InternalError(fmt::format("{}: reports a payload size but cannot scatter it", name_));
}
void Compressor::scatter_payload(std::span<const double>, const Layout&, const StepContext&,
                                 std::span<double>, double) const {
  throw InternalError(fmt::format("{}: reports a payload size but cannot scatter it", name_));
}

void Compressor::check_header(std::span<const std::uint8_t> message, const Layout& layout,
                              const StepContext& context, bool double_output) const {
  if (double_output) {
    (void)open_message<double>(message, layout, context);
  } else {
    (void)open_message<float>(message, layout, context);
  }
}

void Compressor::read_payload(std::span<const std::uint8_t> message, const Layout& layout,
                              const StepContext& context, std::span<float> payload) const {
  read_payload_checked(message, layout, context, payload);
}
void Compressor::read_payload(std::span<const std::uint8_t> message, const Layout& layout,
                              const StepContext& context, std::span<double> payload) const {
  read_payload_checked(message, layout, context, payload);
}
void Compressor::decode_payload_add(std::span<const float> payload, const Layout& layout,
                                    const StepContext& context, std::span<float> out,
                                    float weight) const {
  decode_payload_checked(payload, layout, context, out, weight);
}
void Compressor::decode_payload_add(std::span<const double> payload, const Layout& layout,
                                    const StepContext& context, std::span<double> out,
                                    double weight) const {
  decode_payload_checked(payload, layout, context, out, weight);
}

Message Compressor::encode(std::span<const float> x, const Layout& layout,
                           const StepContext& context) {
  Message message;
  encode_checked(x, layout, context, message);
  return message;
}
Message Compressor::encode(std::span<const double> x, const Layout& layout,
                           const StepContext& context) {
  Message message;
  encode_checked(x, layout, context, message);
  return message;
}
void Compressor::encode(std::span<const float> x, const Layout& layout, const StepContext& context,
                        Message& out) {
  encode_checked(x, layout, context, out);
}
void Compressor::encode(std::span<const double> x, const Layout& layout, const StepContext& context,
                        Message& out) {
  encode_checked(x, layout, context, out);
}
void Compressor::encode_and_decode(std::span<const float> x, const Layout& layout,
                                   const StepContext& context, Message& out,
                                   std::span<float> decoded) {
  encode_and_decode_checked(x, layout, context, out, decoded);
}
void Compressor::encode_and_decode(std::span<const double> x, const Layout& layout,
                                   const StepContext& context, Message& out,
                                   std::span<double> decoded) {
  encode_and_decode_checked(x, layout, context, out, decoded);
}
bool Compressor::encode_and_decode_sparse(std::span<const float> x, const Layout& layout,
                                          const StepContext& context, Message& out,
                                          std::span<float> decoded, SparseDecode<float>& sparse,
                                          std::size_t limit) {
  return encode_and_decode_sparse_checked(x, layout, context, out, decoded, sparse, limit);
}
bool Compressor::encode_and_decode_sparse(std::span<const double> x, const Layout& layout,
                                          const StepContext& context, Message& out,
                                          std::span<double> decoded, SparseDecode<double>& sparse,
                                          std::size_t limit) {
  return encode_and_decode_sparse_checked(x, layout, context, out, decoded, sparse, limit);
}
void Compressor::decode_add(std::span<const std::uint8_t> message, const Layout& layout,
                            const StepContext& context, std::span<float> out, float weight) const {
  decode_checked(message, layout, context, out, weight);
}
void Compressor::decode_add(std::span<const std::uint8_t> message, const Layout& layout,
                            const StepContext& context, std::span<double> out,
                            double weight) const {
  decode_checked(message, layout, context, out, weight);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
