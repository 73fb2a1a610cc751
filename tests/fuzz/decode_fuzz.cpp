// libFuzzer target: the decoder of GRADCOMP_FUZZ_SPEC on arbitrary bytes. A DecodeError is the
// expected answer to garbage; any other exception, a crash or a sanitizer report is a bug.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_layout.hpp"
#include "gradcomp/compress/registry.hpp"

namespace {

using gradcomp::fuzzing::fuzz_layout;

// The header a real message of this compressor would carry, so mutations reach the body.
std::vector<std::uint8_t> valid_header(gradcomp::Compressor& compressor) {
  const std::vector<float> x(fuzz_layout().total_size(), 0.5F);
  auto message = compressor.encode(std::span<const float>(x), fuzz_layout(), {});
  message.bytes.resize(gradcomp::MessageHeader::kBytes);
  return message.bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto compressor = gradcomp::make_compressor(GRADCOMP_FUZZ_SPEC);
  static const std::vector<std::uint8_t> header = valid_header(*compressor);
  if (size == 0) return 0;
  gradcomp::Message message;
  if ((data[0] & 1U) != 0) message.bytes = header;
  message.bytes.insert(message.bytes.end(), data + 1, data + size);
  std::vector<float> out(fuzz_layout().total_size());
  try {
    compressor->decode(message, fuzz_layout(), {}, std::span<float>(out));
  } catch (const gradcomp::DecodeError&) {
    return 0;
  }
  return 0;
}
