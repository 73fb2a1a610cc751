#include "gradcomp/core/bit_stream.hpp"

namespace gradcomp {

void BitReader::refill(unsigned width) {
  if (bytes_.size() - next_byte_ >= 8) {  // next_byte_ ≤ size always
    top_up();
  } else {
    const std::span<const std::uint8_t> left = bytes_.subspan(next_byte_);
    const std::size_t take = std::min<std::size_t>(left.size(), (63 - available_) >> 3);
    for (std::size_t k = 0; k < take; ++k)
      window_ |= std::uint64_t{left[k]} << (available_ + 8 * k);
    next_byte_ += take;
    available_ += static_cast<unsigned>(8 * take);
  }
  require<DecodeError>(available_ >= width, "message truncated: needs {} more bits at bit {} of {}",
                       width, position(), bytes_.size() * 8);
}

}  // namespace gradcomp
