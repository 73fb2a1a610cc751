#include "gradcomp/compress/compressor.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

Compressor::Compressor(CompressorId id, std::string name, std::string spec,
                       std::string value_choice)
    : id_(id), name_(std::move(name)), spec_(std::move(spec)),
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

template <class T>
std::size_t first_non_finite(std::span<const T> x) {
  // Integer test on the exponent field: vectorises, and a clean block is skipped in one check.
  using Bits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  constexpr Bits kExponent = static_cast<Bits>(std::is_same_v<T, float> ? 0x7F800000ULL
                                                                         : 0x7FF0000000000000ULL);
  constexpr std::size_t kBlock = 1024;
  for (std::size_t start = 0; start < x.size(); start += kBlock) {
    const std::size_t end = std::min(x.size(), start + kBlock);
    bool bad = false;
    for (std::size_t i = start; i < end; ++i) {
      bad |= (std::bit_cast<Bits>(x[i]) & kExponent) == kExponent;
    }
    if (bad) {
      for (std::size_t i = start; i < end; ++i) {
        if (!std::isfinite(x[i])) return i;
      }
    }
  }
  return x.size();
}
template std::size_t first_non_finite<float>(std::span<const float>);
template std::size_t first_non_finite<double>(std::span<const double>);

std::uint16_t Compressor::fingerprint(const Layout& layout) const {
  // FNV-1a over the canonical spec and the block shapes: two workers configured differently
  // (other parameters, other layout) produce different fingerprints with probability 1 − 2^−16.
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  auto add = [&hash](std::uint64_t byte) {
    hash ^= byte;
    hash *= 0x100000001B3ULL;
  };
  for (const char c : spec_) add(static_cast<unsigned char>(c));
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
Message Compressor::encode_checked(std::span<const T> x, const Layout& layout,
                                   const StepContext& context) {
  require(x.size() == layout.total_size(),
          "{}: the vector has {} elements but the layout describes {}", name_, x.size(),
          layout.total_size());
  require(x.size() <= std::numeric_limits<std::uint32_t>::max(),
          "{}: vectors of {} elements exceed the wire format's limit of 2^32 − 1; split the model",
          name_, x.size());
  if (const std::size_t bad = first_non_finite(x); bad != x.size()) {
    throw InvalidInput(fmt::format("{}: the vector holds {} at index {} (layer '{}'); compressors "
                                   "need finite input", name_, static_cast<double>(x[bad]), bad,
                                   layout.block_of(bad).name));
  }
  Message message;
  MessageHeader header;
  header.compressor = static_cast<std::uint8_t>(id_);
  header.values = value_format<T>();
  header.fingerprint = fingerprint(layout);
  header.length = static_cast<std::uint32_t>(x.size());
  header.step = static_cast<std::uint32_t>(context.step);
  header.append_to(message.bytes);
  encode_body(x, layout, context, message.bytes);
  return message;
}

template <class T>
void Compressor::decode_checked(const Message& message, const Layout& layout,
                                const StepContext& context, std::span<T> out, T weight) const {
  require(out.size() == layout.total_size(),
          "{}: the output has {} elements but the layout describes {}", name_, out.size(),
          layout.total_size());
  const MessageHeader header = MessageHeader::parse(message.bytes);
  require<DecodeError>(header.compressor == static_cast<std::uint8_t>(id_),
                       "message was made by compressor #{}, not by {} (#{})", header.compressor,
                       name_, static_cast<int>(id_));
  require<DecodeError>(header.length == layout.total_size(),
                       "{}: message encodes {} elements, the layout has {}", name_, header.length,
                       layout.total_size());
  require<DecodeError>(header.fingerprint == fingerprint(layout),
                       "{}: message was made with other settings or another layout "
                       "(fingerprint {:#06x}, expected {:#06x} for '{}')",
                       name_, header.fingerprint, fingerprint(layout), spec_);
  require<DecodeError>(header.values == value_format<T>(),
                       "{}: message carries {} values, expected {}", name_,
                       value_format_name(header.values), value_format_name(value_format<T>()));
  require<DecodeError>(header.step == static_cast<std::uint32_t>(context.step),
                       "{}: message is from step {}, the receiver is at step {}", name_,
                       header.step, static_cast<std::uint32_t>(context.step));
  ByteReader reader(message.bytes, MessageHeader::kBytes);
  decode_body(reader, layout, context, out, weight);
  require<DecodeError>(reader.remaining() == 0, "{}: message has {} unexpected trailing bytes",
                       name_, reader.remaining());
}

Message Compressor::encode(std::span<const float> x, const Layout& layout,
                           const StepContext& context) {
  return encode_checked(x, layout, context);
}
Message Compressor::encode(std::span<const double> x, const Layout& layout,
                           const StepContext& context) {
  return encode_checked(x, layout, context);
}
void Compressor::decode_add(const Message& message, const Layout& layout,
                            const StepContext& context, std::span<float> out,
                            float weight) const {
  decode_checked(message, layout, context, out, weight);
}
void Compressor::decode_add(const Message& message, const Layout& layout,
                            const StepContext& context, std::span<double> out,
                            double weight) const {
  decode_checked(message, layout, context, out, weight);
}

}  // namespace gradcomp
