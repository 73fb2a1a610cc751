#pragma once
// Message: the bytes one worker puts on the wire (docs/architecture.md). Every message opens
// with a 16-byte header (docs/wire-format.md) that lets a receiver reject a message that does not
// fit: another format version, another compressor, other settings, another length or step.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gradcomp/core/bit_stream.hpp"

namespace gradcomp {

// Floating-point values on the wire.
enum class ValueFormat : std::uint8_t { kFp32 = 0, kFp16 = 1, kFp64 = 2 };
unsigned value_bytes(ValueFormat format);
std::string_view value_format_name(ValueFormat format);

struct MessageHeader {
  static constexpr std::uint16_t kMagic = 0x4347;  // "GC" little-endian
  static constexpr std::uint8_t kVersion = 1;
  static constexpr std::size_t kBytes = 16;

  std::uint8_t compressor = 0;  // CompressorId of the encoder
  ValueFormat values = ValueFormat::kFp32;
  std::uint16_t fingerprint = 0;  // hash of the canonical spec and the layout
  std::uint32_t length = 0;       // d, elements of the encoded vector
  std::uint32_t step = 0;         // low 32 bits of the step (shared randomness is keyed by it)

  void append_to(std::vector<std::uint8_t>& out) const;
  static MessageHeader parse(std::span<const std::uint8_t> bytes);
};

struct Message {
  std::vector<std::uint8_t> bytes;

  [[nodiscard]] std::size_t size_bytes() const { return bytes.size(); }
  // What the message costs on the wire: counted from the bytes, never estimated.
  [[nodiscard]] std::uint64_t bits() const { return std::uint64_t{bytes.size()} * 8; }
  // The same, less the header: comparable with the per-message formulas of docs/compressors.md
  // §2.2.
  [[nodiscard]] std::uint64_t payload_bits() const {
    return bytes.size() < MessageHeader::kBytes ? 0 : bits() - 8 * MessageHeader::kBytes;
  }
};

// Appends values of type T (float or double) in the given wire format.
template <class T>
void append_values(std::vector<std::uint8_t>& out, std::span<const T> values, ValueFormat format);
template <class T>
void append_value(std::vector<std::uint8_t>& out, T value, ValueFormat format) {
  append_values<T>(out, std::span<const T>(&value, 1), format);
}

// Value i of a value section in `format` starting at `values`, as T: what read_values hands its
// sink (no check). An encoder reads back what it just wrote with it: a value as rounded to the
// wire format.
template <class T>
T stored_value_as(const std::uint8_t* values, std::size_t i, ValueFormat format);
// Reads `count` values and calls sink(i, value) for each. Rejects non-finite values: encoders never
// produce them, so one means the message is corrupt.
template <class T, class Sink>
void read_values(ByteReader& reader, std::size_t count, ValueFormat format, Sink&& sink);
template <class T>
T read_value(ByteReader& reader, ValueFormat format) {
  T result{};
  read_values<T>(reader, 1, format, [&](std::size_t, T v) { result = v; });
  return result;
}

// An element a decoder computes from several of a message's values (PowerSGD's P Qᵀ, a Gaussian
// sketch's back-projection), narrowed to T. Finite factors can still multiply beyond T's range;
// a real message never decodes to a non-finite element, so one means corruption (DecodeError).
template <class T>
T decoded_element(double value, std::string_view compressor);

}  // namespace gradcomp

#include "gradcomp/core/message_values.inl"
