#include "gradcomp/core/message.hpp"

namespace gradcomp {

unsigned value_bytes(ValueFormat format) {
  switch (format) {
    case ValueFormat::kFp32:
      return 4;
    case ValueFormat::kFp16:
      return 2;
    case ValueFormat::kFp64:
      return 8;
  }
  throw InternalError("unknown value format");
}

std::string_view value_format_name(ValueFormat format) {
  switch (format) {
    case ValueFormat::kFp32:
      return "fp32";
    case ValueFormat::kFp16:
      return "fp16";
    case ValueFormat::kFp64:
      return "fp64";
  }
  throw InternalError("unknown value format");
}

void MessageHeader::append_to(std::vector<std::uint8_t>& out) const {
  append_scalar(out, kMagic);
  append_scalar(out, kVersion);
  append_scalar(out, compressor);
  append_scalar(out, static_cast<std::uint8_t>(values));
  append_scalar(out, std::uint8_t{0});  // reserved
  append_scalar(out, fingerprint);
  append_scalar(out, length);
  append_scalar(out, step);
}

MessageHeader MessageHeader::parse(std::span<const std::uint8_t> bytes) {
  ByteReader reader(bytes);
  require<DecodeError>(bytes.size() >= kBytes,
                       "message truncated: {} bytes, shorter than the {}-byte header", bytes.size(),
                       kBytes);
  const auto magic = reader.scalar<std::uint16_t>("magic");
  require<DecodeError>(magic == kMagic, "not a gradcomp message (magic {:#06x}, expected {:#06x})",
                       magic, kMagic);
  const auto version = reader.scalar<std::uint8_t>("version");
  require<DecodeError>(version == kVersion,
                       "message has wire-format version {}, this gradcomp reads version {}",
                       version, kVersion);
  MessageHeader header;
  header.compressor = reader.scalar<std::uint8_t>("compressor");
  const auto values = reader.scalar<std::uint8_t>("value format");
  require<DecodeError>(values <= 2, "message corrupt: value format {} is not fp32/fp16/fp64",
                       values);
  header.values = static_cast<ValueFormat>(values);
  const auto reserved = reader.scalar<std::uint8_t>("reserved");
  require<DecodeError>(reserved == 0, "message corrupt: reserved header byte is {}", reserved);
  header.fingerprint = reader.scalar<std::uint16_t>("fingerprint");
  header.length = reader.scalar<std::uint32_t>("length");
  header.step = reader.scalar<std::uint32_t>("step");
  return header;
}

}  // namespace gradcomp
