// docs/architecture.md's worked example of adding a compressor: keep every other coordinate
// (the even indices), a deterministic δ = ⌈d/2⌉/d compressor with no index bits, written as a
// new file in compress/ would be. A real compressor takes the next free CompressorId in
// compress/compressor.hpp and is listed in compress/registry.cpp; this one uses an id no
// registered compressor has. The test checks its round trip, its bits and its header checks.
#include <gtest/gtest.h>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/error.hpp"
#include "test_support.hpp"

namespace gradcomp::testing {
namespace {

constexpr auto kExampleId = static_cast<CompressorId>(200);

class EveryOther final : public TypedCompressor<EveryOther> {
 public:
  EveryOther() : TypedCompressor(kExampleId, "every-other", "every-other", "auto") {}

  [[nodiscard]] Properties properties() const override {
    return {false, true, false, false, false, ErrorBound::kRelative};
  }
  [[nodiscard]] Constants constants(const Layout&) const override {
    return {{}, {}, {}, "delta depends on x (the odd coordinates' share of its norm)"};
  }

  template <class T>
  void encode_typed(std::span<const T> x, const Layout&, const StepContext&,
                    std::vector<std::uint8_t>& out) {
    std::vector<T> kept;
    for (std::size_t i = 0; i < x.size(); i += 2) kept.push_back(x[i]);
    append_values<T>(out, std::span<const T>(kept), value_format<T>());
  }

  template <class T>
  void decode_typed(ByteReader& reader, const Layout& layout, const StepContext&, std::span<T> out,
                    T weight) const {
    const std::size_t kept = (layout.total_size() + 1) / 2;
    read_values<T>(reader, kept, value_format<T>(),
                   [&](std::size_t j, T value) { out[2 * j] += weight * value; });
  }

  // Linear: the body is nothing but the kept values, so payloads add across workers and the
  // allreduce pattern can sum them before one decode.
  [[nodiscard]] std::optional<std::size_t> payload_size(const Layout& layout) const override {
    return (layout.total_size() + 1) / 2;
  }
  template <class T>
  void scatter_typed(std::span<const T> payload, const Layout&, const StepContext&,
                     std::span<T> out, T weight) const {
    for (std::size_t j = 0; j < payload.size(); ++j) out[2 * j] += weight * payload[j];
  }
};

TEST(ArchitectureExample, ACompressorInOneShortFile) {
  const Layout layout = Layout::from_shapes({{3, 3}});
  const std::vector<float> x = gaussian_vector<float>(9, 4, 0);
  EveryOther compressor;
  const StepContext context{1, 7, 0};
  const Message message = compressor.encode(std::span<const float>(x), layout, context);
  EXPECT_EQ(message.bits(), 8 * MessageHeader::kBytes + 5 * 32);  // header + 5 fp32 values

  std::vector<float> decoded(9, 1.0F);
  compressor.decode_add(message, layout, context, std::span<float>(decoded), 2.0F);
  for (std::size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(decoded[i], i % 2 == 0 ? 1.0F + 2.0F * x[i] : 1.0F) << i;
  }
  // Summed payloads decode to the sum of the decodes.
  const std::vector<float> y = gaussian_vector<float>(9, 4, 1);
  const Message other = compressor.encode(std::span<const float>(y), layout, context);
  std::vector<float> payload(5), summed(5), via_payload(9, 0.0F), via_messages(9, 0.0F);
  compressor.read_payload(message.bytes, layout, context, std::span<float>(payload));
  compressor.read_payload(other.bytes, layout, context, std::span<float>(summed));
  for (std::size_t j = 0; j < 5; ++j) summed[j] += payload[j];
  compressor.decode_payload_add(std::span<const float>(summed), layout, context,
                                std::span<float>(via_payload), 1.0F);
  compressor.decode_add(message, layout, context, std::span<float>(via_messages));
  compressor.decode_add(other, layout, context, std::span<float>(via_messages));
  EXPECT_EQ(via_payload, via_messages);
  // The header checks come with the base class: another step is refused.
  EXPECT_THROW(compressor.decode_add(message, layout, {1, 8, 0}, std::span<float>(decoded)),
               DecodeError);
}

}  // namespace
}  // namespace gradcomp::testing
