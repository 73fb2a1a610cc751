// libFuzzer target: the decoder of GRADCOMP_FUZZ_SPEC on arbitrary bytes, on the layout the first
// byte chooses (fuzz_layout.hpp). A DecodeError is the expected answer to garbage; any other
// exception, a crash, a sanitizer report or a non-finite decoded value is a bug.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_layout.hpp"
#include "gradcomp/compress/registry.hpp"

namespace {

using gradcomp::fuzzing::fuzz_layouts;
using gradcomp::fuzzing::kLayoutCount;

// The header a real message of this compressor would carry on each layout, so mutations reach
// the body.
std::array<std::vector<std::uint8_t>, kLayoutCount> valid_headers(
    gradcomp::Compressor& compressor) {
  std::array<std::vector<std::uint8_t>, kLayoutCount> headers;
  for (std::size_t i = 0; i < kLayoutCount; ++i) {
    const std::vector<float> x(fuzz_layouts()[i].total_size(), 0.5F);
    auto message = compressor.encode(std::span<const float>(x), fuzz_layouts()[i], {});
    message.bytes.resize(gradcomp::MessageHeader::kBytes);
    headers[i] = std::move(message.bytes);
  }
  return headers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto compressor = gradcomp::make_compressor(GRADCOMP_FUZZ_SPEC);
  static const auto headers = valid_headers(*compressor);
  if (size == 0) return 0;
  const std::size_t chosen = gradcomp::fuzzing::layout_index_of(data[0]);
  const gradcomp::Layout& layout = fuzz_layouts()[chosen];
  // The message's buffer is allocated to its exact size, so a read past its end leaves the
  // allocation and AddressSanitizer reports it.
  const bool with_header = (data[0] & gradcomp::fuzzing::kValidHeaderBit) != 0;
  gradcomp::Message message;
  message.bytes.reserve((with_header ? headers[chosen].size() : 0) + size - 1);
  if (with_header) message.bytes = headers[chosen];
  message.bytes.insert(message.bytes.end(), data + 1, data + size);
  std::vector<float> out(layout.total_size());
  try {
    compressor->decode(message, layout, {}, std::span<float>(out));
  } catch (const gradcomp::DecodeError&) {
    return 0;
  }
  // A message that decodes gives finite values (docs/wire-format.md): a corrupt one that decodes
  // to inf or NaN is a finding too.
  for (const float v : out) {
    if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
