#pragma once
// Bit-level writer and reader, least significant bit first within each byte.
// The reader checks every read against the end of its buffer and throws DecodeError: a truncated or
// corrupt message can never make it read outside the bytes it was given.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/shifted_copy.hpp"

namespace gradcomp {

class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  ~BitWriter() { flush(); }
  BitWriter(const BitWriter&) = delete;
  BitWriter& operator=(const BitWriter&) = delete;

  // Appends the low `width` bits of `value` (width ≤ 57). Bits gather in a 64-bit word that goes
  // out 8 bytes at a time: appending byte by byte cost more than the Rice coding itself.
  void write(std::uint64_t value, unsigned width) {
    value &= mask(width);
    accumulator_ |= value << filled_;  // filled_ < 64
    const unsigned total = filled_ + width;
    if (total < 64) {
      filled_ = total;
      return;
    }
    append_bytes(accumulator_, 8);
    // total ≥ 64 and width ≤ 57 give filled_ ≥ 7: the shift is in [7, 57].
    accumulator_ = value >> (64 - filled_);
    filled_ = total - 64;
  }
  // `count` one bits then a zero: the unary part of a Rice code.
  void write_unary(std::uint64_t count) {
    while (count >= 32) {
      write(0xFFFFFFFFULL, 32);
      count -= 32;
    }
    write(mask(static_cast<unsigned>(count)), static_cast<unsigned>(count) + 1);
  }
  // Pads with zero bits to the next byte boundary.
  void flush() {
    append_bytes(accumulator_, (filled_ + 7) / 8);
    accumulator_ = 0;
    filled_ = 0;
  }

  static constexpr std::uint64_t mask(unsigned width) {
    return width >= 64 ? ~0ULL : (1ULL << width) - 1;
  }

 private:
  // The low `count` bytes of `word`, least significant first.
  void append_bytes(std::uint64_t word, unsigned count) {
    std::uint8_t bytes[8];
    for (unsigned i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(word >> (8 * i));
    out_.insert(out_.end(), bytes, bytes + count);
  }

  std::vector<std::uint8_t>& out_;
  std::uint64_t accumulator_ = 0;
  unsigned filled_ = 0;
};

// A bit writer into storage sized beforehand, for hot loops that know the exact size (a sparse
// message's coded indices): every field is one unaligned 8-byte store and no branch, and the
// writer, kept as a local, holds its state in registers (BitWriter's members go through memory
// because its vector's appends may alias them). The storage needs 8 bytes past the last byte
// written; those hold zeros or garbage the caller trims.
class PresizedBitWriter {
 public:
  static constexpr unsigned kMaxWidth = 56;

  explicit PresizedBitWriter(std::uint8_t* out) : out_(out) {}

  // Appends `value`, which must be below 2^width (width ≤ kMaxWidth).
  void write(std::uint64_t value, unsigned width) {
    accumulator_ |= value << filled_;  // filled_ ≤ 7: the field fits in the 64-bit word
    filled_ += width;
    std::uint64_t word = accumulator_;
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    std::memcpy(out_ + byte_, &word, 8);
    const unsigned whole_bytes = filled_ >> 3;  // ≤ 7
    byte_ += whole_bytes;
    accumulator_ >>= 8 * whole_bytes;
    filled_ &= 7;
  }
  // Appends the first bits of `bytes` (bit i in byte i/8), each xor `flip`, in whole 64-bit words
  // while the whole word is in `bytes` and within `bits`; returns how many bits it took (a
  // multiple of 64). Each word is one store whose value depends on the source only (the word
  // shifted into place, the previous word's top bits below it), not on the store before it: a
  // copy of a bit stream does not wait on write()'s serial chain.
  std::uint64_t write_words(std::span<const std::uint8_t> bytes, std::uint64_t bits,
                            std::uint64_t flip) {
    const std::size_t words = std::min<std::uint64_t>(bits / 64, bytes.size() / 8);
    accumulator_ =
        copy_shifted_words(out_ + byte_, bytes.data(), words, filled_, accumulator_, flip);
    byte_ += 8 * words;
    return 64 * std::uint64_t{words};
  }
  // Bytes written so far, the last one possibly partial (zero-padded).
  [[nodiscard]] std::size_t bytes() const { return byte_ + (filled_ != 0 ? 1 : 0); }
  // Bits written so far.
  [[nodiscard]] std::uint64_t bits() const { return std::uint64_t{byte_} * 8 + filled_; }

 private:
  // write_words' loop: `words` words of `from` xor `flip` to `to`, each shifted up by `shift`
  // (≤ 7) with the bits `below` it, then the partial last byte (the last word's top `shift` bits)
  // stored after them, as write() leaves it; returns those bits.
  static std::uint64_t copy_shifted_words(std::uint8_t* to, const std::uint8_t* from,
                                          std::size_t words, unsigned shift, std::uint64_t below,
                                          std::uint64_t flip) {
    // Many words in vectors; a few here, where the call through the CPU's dispatch would cost
    // more than it saves.
    if (std::endian::native == std::endian::little && words >= kWideCopy) {
      return copy_shifted_words_wide(to, from, words, shift, below, flip);
    }
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t word = 0;
      std::memcpy(&word, from + 8 * w, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      word ^= flip;
      std::uint64_t stored = below | (word << shift);
      if constexpr (std::endian::native == std::endian::big) stored = __builtin_bswap64(stored);
      std::memcpy(to + 8 * w, &stored, 8);
      below = (word >> 1) >> (63 - shift);  // the top `shift` bits (none for shift 0)
    }
    std::uint64_t partial = below;
    if constexpr (std::endian::native == std::endian::big) partial = __builtin_bswap64(partial);
    std::memcpy(to + 8 * words, &partial, 8);
    return below;
  }

  static constexpr std::size_t kWideCopy = 16;

  std::uint8_t* out_;
  std::size_t byte_ = 0;
  std::uint64_t accumulator_ = 0;
  unsigned filled_ = 0;
};

// DecodeError unless a unary run of `count` ones is within `limit`: the words of every reader of
// unary runs (BitReader's, and split Rice's vector decode).
[[gnu::always_inline]] inline void require_unary_run_within(std::uint64_t count,
                                                            std::uint64_t limit) {
  require<DecodeError>(count <= limit, "message corrupt: unary run longer than {}", limit);
}

// Reads a word at a time: the bits not yet read wait in a 64-bit window, refilled with up to
// eight bytes at once, so a field costs a shift and a mask, and a unary run one count of trailing
// ones (reading bit by bit was most of a sparse message's decode).
class BitReader {
 public:
  static constexpr unsigned kMaxWidth = 56;

  explicit BitReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  // The next `width` bits (width ≤ kMaxWidth).
  std::uint64_t read(unsigned width) {
    if (available_ < width) refill(width);
    const std::uint64_t value = window_ & BitWriter::mask(width);
    consume(width);
    return value;
  }
  bool read_bit() { return read(1) != 0; }
  // Counts one bits up to the next zero (and consumes it); refuses runs longer than `limit`.
  std::uint64_t read_unary(std::uint64_t limit) {
    std::uint64_t count = 0;
    for (;;) {
      if (available_ == 0) refill(1);
      const auto ones =
          std::min<unsigned>(static_cast<unsigned>(std::countr_one(window_)), available_);
      count += ones;
      require_unary_run_within(count, limit);
      if (ones < available_) {
        consume(ones + 1);
        return count;
      }
      consume(ones);
    }
  }
  // One Golomb–Rice code word: a unary quotient (at most `limit`) then `b` low bits; returns
  // (quotient << b) | low. When the whole word is in the window (nearly always) this is one count
  // of trailing ones and two shifts.
  std::uint64_t read_rice(unsigned b, std::uint64_t limit) {
    if (available_ < kMaxWidth) top_up();
    const auto ones = static_cast<unsigned>(std::countr_one(window_));
    if (ones + 1 + b <= available_ && ones <= limit) {
      const std::uint64_t low = (window_ >> (ones + 1)) & BitWriter::mask(b);
      consume(ones + 1 + b);
      return (std::uint64_t{ones} << b) | low;
    }
    const std::uint64_t quotient = read_unary(limit);
    return (quotient << b) | read(b);
  }
  // `count` Golomb–Rice code words, as `count` calls of read_rice(b, limit) would read them,
  // handed to a sink as (k, value) in order. The window, its fill and the position live in locals
  // (registers) for the whole run. A load of 8 bytes tops the window up to at least 56 bits, and
  // then several code words are read from it before the next load: the load's address hangs on
  // the previous code word's length, so a top-up per code word put a load's latency on the
  // serial chain of every index, where reading from the window is a count of trailing ones and a
  // shift. How many are read per top-up follows b (a code word is b + 1 + q bits, q usually 0 to
  // 2); one that does not fit in what is left goes to the next top-up. The last code words
  // before the end of the bytes, and any longer than the window, go through read_rice.
  //
  // Before each top-up's code words, `trusted()` asks the caller whether it has bounded what
  // they can decode to: the words of one top-up fit in 63 bits, so their Σ (q + 1) ≤ 63 and each
  // value + 1 ≤ (q + 1)·2^b. If it has, they go to `trusted_sink` and their quotients are not
  // compared with `limit` (two compares and branches less per code word, most of a sparse
  // decode's checks); otherwise to `checked_sink`.
  template <class Trusted, class TrustedSink, class CheckedSink>
  [[gnu::always_inline]] void read_rice_words(std::size_t count, unsigned b, std::uint64_t limit,
                                              Trusted&& trusted, TrustedSink&& trusted_sink,
                                              CheckedSink&& checked_sink) {
    // The window is held inverted: a code word's quotient is then the count of trailing zeros,
    // one operation less on the serial chain (count, length, shift) that every code word waits
    // for. Its bits above `available` start as zeros and the top-ups OR the stream's inverted
    // bits in, which keeps them the stream's own, inverted, as in the plain window.
    unsigned available = available_;
    std::uint64_t inverted = ~window_ & BitWriter::mask(available);  // available ≤ 63
    std::size_t next = next_byte_;
    const std::uint8_t* const bytes = bytes_.data();
    const std::size_t size = bytes_.size();
    const std::uint64_t low_mask = BitWriter::mask(b);
    const unsigned per_top_up = std::max(1U, 56U / (b + 2));
    // (q << b) | the b bits after the quotient's terminating bit. Called only once the code word
    // is known to fit: ones + 1 + b ≤ available ≤ 63, so the shift is below 64 (the analyzer
    // loses available's bound at `available |= 56` and assumes a count of 64).
    const auto value_at = [&](unsigned ones) {
      // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
      return (std::uint64_t{ones} << b) | (((inverted >> (ones + 1)) & low_mask) ^ low_mask);
    };
    std::size_t k = 0;
    while (k < count) {
      // Without a branch on the fill (whether a code word needs a load is as unpredictable as
      // the code lengths): 8 bytes at `next` go above the bits held (the bits already there are
      // the stream's own, see top_up), and the whole bytes that fit are counted in: 56 +
      // (available mod 8) bits are then held.
      if (size - next < 8) break;
      std::uint64_t word;
      std::memcpy(&word, bytes + next, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      inverted |= ~word << available;  // available ≤ 63
      next += (63 - available) >> 3;
      available |= 56;
      const std::size_t first = k;
      const std::size_t block_end = std::min(count, k + per_top_up);
      if (trusted()) {
        do {
          const auto ones = static_cast<unsigned>(std::countr_zero(inverted));
          const unsigned length = ones + 1 + b;
          if (length > available) break;  // the next top-up
          trusted_sink(k, value_at(ones));
          inverted >>= length;  // length ≤ available ≤ 63
          available -= length;
        } while (++k < block_end);
      } else {
        do {
          const auto ones = static_cast<unsigned>(std::countr_zero(inverted));
          const unsigned length = ones + 1 + b;
          if (length > available || ones > limit) break;  // the next top-up, or the general path
          checked_sink(k, value_at(ones));
          inverted >>= length;
          available -= length;
        } while (++k < block_end);
      }
      if (k == first) break;  // longer than a full window, or refused: the general path
    }
    window_ = ~inverted & BitWriter::mask(available);
    available_ = available;
    next_byte_ = next;
    for (; k < count; ++k) checked_sink(k, read_rice(b, limit));
  }
  // The Rice code words of b = 0, 56 at a time. With b = 0 a code word is `gap` ones and a zero,
  // so the stream's inverted bits are the support's bitmap: bit t of the inverted window stands
  // for coordinate start + t, set where that coordinate is kept. While more than 56 indices are
  // left (so the last one is not among the next 56 bits), at least 8 bytes remain and
  // `fits(start)` says start + 64 is inside the caller's segment, the next 56 bits go to
  // word(start, kept, k): their kept coordinates are start + each set bit of `kept`, the first
  // of them index k, and it returns how many there were (the set bits of `kept`). Then start
  // moves past them. (56 bits, not what a top-up holds: a word's coordinates then never share
  // the next word's, whose loads would wait for this word's stores.) Returns how many indices
  // went to `word`; the rest (the tail, and a segment's last 64 coordinates) are for
  // read_rice_words, with start as its previous end.
  static constexpr unsigned kBitmapWord = 56;
  template <class Fits, class Word>
  [[gnu::always_inline]] std::size_t read_bitmap_words(std::size_t count, std::uint64_t& start,
                                                       Fits&& fits, Word&& word) {
    unsigned available = available_;
    std::uint64_t inverted = ~window_ & BitWriter::mask(available);  // as in read_rice_words
    std::size_t next = next_byte_;
    const std::uint8_t* const bytes = bytes_.data();
    const std::size_t size = bytes_.size();
    std::size_t k = 0;
    while (count - k > kBitmapWord && size - next >= 8 && fits(start)) {
      std::uint64_t loaded;
      std::memcpy(&loaded, bytes + next, 8);
      if constexpr (std::endian::native == std::endian::big) loaded = __builtin_bswap64(loaded);
      inverted |= ~loaded << available;  // available ≤ 63
      next += (63 - available) >> 3;
      available |= 56;
      k += word(start, inverted & BitWriter::mask(kBitmapWord), k);
      start += kBitmapWord;
      // The bits above `available` are the stream's own from byte `next` on: they stay, and the
      // next top-up ORs the same bits over them.
      inverted >>= kBitmapWord;
      available -= kBitmapWord;
    }
    window_ = ~inverted & BitWriter::mask(available);
    available_ = available;
    next_byte_ = next;
    return k;
  }
  // The bytes read from, the position in bits, and a jump to a position (≤ 8·bytes().size()):
  // for decoders that read the bytes themselves (compress/sparse_decode.cpp).
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }
  [[nodiscard]] std::uint64_t bit_position() const { return position(); }
  void seek(std::uint64_t bit) {
    next_byte_ = bit >> 3;
    window_ = 0;
    available_ = 0;
    read(static_cast<unsigned>(bit & 7));
  }
  // Skips `bits` bits; DecodeError past the end.
  void skip(std::uint64_t bits) {
    for (; bits > kMaxWidth; bits -= kMaxWidth) read(kMaxWidth);
    read(static_cast<unsigned>(bits));
  }
  // Skips to the next byte boundary; returns the byte offset reached.
  std::size_t align() {
    const std::size_t aligned = (position() + 7) & ~std::size_t{7};
    // The window holds whole bytes past the aligned position: give them back.
    next_byte_ = aligned >> 3;
    window_ = 0;
    available_ = 0;
    return next_byte_;
  }

 private:
  [[nodiscard]] std::size_t position() const { return next_byte_ * 8 - available_; }

  void consume(unsigned width) {  // width ≤ available_ ≤ 64
    window_ = width >= 64 ? 0 : window_ >> width;
    available_ -= width;
  }

  // Tops the window up to at least 57 bits (or the end of the bytes). The bits loaded above
  // `available_` by a whole-word load are the stream's own, at their places: OR-ing them in again
  // on the next refill changes nothing.
  void refill(unsigned width);  // bit_stream.cpp: once per seven bytes or more
  // Loads what fits without requiring anything (the end of the bytes may be near).
  void top_up() {
    if (bytes_.size() - next_byte_ >= 8) {
      std::uint64_t word;
      std::memcpy(&word, bytes_.data() + next_byte_, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      window_ |= word << available_;
      const unsigned bytes = (63 - available_) >> 3;
      next_byte_ += bytes;
      available_ += 8 * bytes;
    } else {
      refill(0);
    }
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t next_byte_ = 0;  // the first byte not yet in the window
  std::uint64_t window_ = 0;   // unread bits, the next one lowest
  unsigned available_ = 0;     // how many bits of window_ are loaded
};

// Byte-aligned little-endian cursor over a message, for headers and value sections.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> bytes, std::size_t position = 0)
      : bytes_(bytes), position_(position) {}

  std::span<const std::uint8_t> take(std::size_t count, const char* what) {
    require<DecodeError>(count <= bytes_.size() - position_,
                         "message truncated: {} needs {} bytes at offset {}, {} left", what, count,
                         position_, bytes_.size() - position_);
    auto piece = bytes_.subspan(position_, count);
    position_ += count;
    return piece;
  }
  template <class T>
  T scalar(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what).data(), sizeof(T));
    return value;
  }
  // Unsigned LEB128, at most 10 bytes.
  std::uint64_t varint(const char* what) {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      const std::uint8_t byte = scalar<std::uint8_t>(what);
      value |= std::uint64_t{byte & 0x7FU} << shift;
      if ((byte & 0x80U) == 0) return value;
    }
    throw DecodeError(fmt::format("message corrupt: {} is not a valid varint", what));
  }
  [[nodiscard]] std::span<const std::uint8_t> rest() const { return bytes_.subspan(position_); }
  void skip(std::size_t count) { position_ += count; }
  [[nodiscard]] std::size_t position() const { return position_; }
  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_;
};

inline void append_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80U));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

template <class T>
void append_scalar(std::vector<std::uint8_t>& out, T value) {
  const std::size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

}  // namespace gradcomp
