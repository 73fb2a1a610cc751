// The sparse section's decode (compress/sparse_codec.hpp's read_sparse_add), compiled once per
// instruction set by Highway's foreach_target: it is scalar code, but with BMI1/BMI2 (which the
// AVX2 and AVX-512 targets include) a code word's count of trailing zeros and its shifts are one
// instruction each, and a shift's count need not be in one register, where x86-64's baseline
// needs moves around them.
#include <array>
#include <cmath>
#include <cstring>

#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/half.hpp"
#include "gradcomp/core/index_coding.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gradcomp/compress/sparse_decode.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace gradcomp::HWY_NAMESPACE {
namespace {

// Value k of a value section stored as `Stored`, widened or narrowed to T.
template <class Stored, class T>
T stored_value(const std::uint8_t* values, std::size_t k) {
  Stored value;
  std::memcpy(&value, values + sizeof(Stored) * k, sizeof(Stored));
  return static_cast<T>(value);
}

// Whether none of `count` stored values has an all-ones exponent (NaN or infinity), testing the
// stored bits: a loop of loads, masks and ors that the compiler vectorises (comparing the
// widened values did not vectorise and took a sixth of a sparse decode).
template <class Word>
bool stored_words_finite(const std::uint8_t* values, std::size_t count, Word exponent) {
  Word all_ones = 0;
  for (std::size_t k = 0; k < count; ++k) {
    Word word;
    std::memcpy(&word, values + sizeof(Word) * k, sizeof(Word));
    all_ones |= static_cast<Word>((word & exponent) == exponent);
  }
  return all_ones == 0;
}
inline bool stored_values_finite(const std::uint8_t* values, std::size_t count,
                                 ValueFormat format) {
  switch (format) {
    case ValueFormat::kFp16:
      return stored_words_finite<std::uint16_t>(values, count, 0x7C00U);
    case ValueFormat::kFp32:
      return stored_words_finite<std::uint32_t>(values, count, 0x7F800000U);
    case ValueFormat::kFp64:
      return stored_words_finite<std::uint64_t>(values, count, 0x7FF0000000000000ULL);
  }
  return false;
}

// compress/sparse_codec.hpp's read_sparse_add.
template <class T>
void read_sparse_add_here(ByteReader& reader, std::span<const Segment> segments,
                          std::span<const std::size_t> counts, ValueFormat format, std::span<T> out,
                          T weight) {
  std::size_t total = 0;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    require<DecodeError>(counts[s] <= segments[s].size,
                         "message corrupt: {} indices in a segment of {} elements", counts[s],
                         segments[s].size);
    total += counts[s];
  }
  const std::size_t width = value_bytes(format);
  require<DecodeError>(total <= reader.remaining() / width,
                       "message truncated: {} values of {} bytes need {} bytes, {} left", total,
                       width, total * width, reader.remaining());
  const std::size_t index_bytes = reader.remaining() - total * width;
  BitReader bits(reader.rest().first(index_bytes));
  const std::uint8_t* const values = reader.rest().data() + index_bytes;
  // The values first, in one linear pass (a corrupt message adds nothing); the scatter's loop
  // then only adds.
  const auto add_all = [&](auto value_at) {
    bool finite = stored_values_finite(values, total, format);
    // fp64 values read as float: one beyond float's range turns infinite on the way.
    for (std::size_t k = 0; finite && width > sizeof(T) && k < total; ++k) {
      finite = std::isfinite(value_at(values, k));
    }
    require<DecodeError>(finite, "message corrupt: a value is NaN or infinite");
    std::size_t first = 0;  // the segment's first value
    for (std::size_t s = 0; s < segments.size(); ++s) {
      const auto tag = static_cast<std::uint8_t>(bits.read(8));
      T* const base = out.data() + segments[s].offset;
      const std::uint8_t* const segment_values = values + first * width;
      for_each_index(bits, tag, counts[s], segments[s].size,
                     [&](std::size_t k, std::uint64_t index) {
                       base[index] += weight * value_at(segment_values, k);
                     });
      first += counts[s];
    }
  };
  // Lambdas, not function pointers: a pointer was called per value, through memory, and kept
  // the loop's state on the stack around the call.
  switch (format) {
    case ValueFormat::kFp32:
      add_all([](const std::uint8_t* v, std::size_t k) { return stored_value<float, T>(v, k); });
      break;
    case ValueFormat::kFp16:
      add_all([](const std::uint8_t* v, std::size_t k) {
        return static_cast<T>(half_to_float(stored_value<std::uint16_t, std::uint16_t>(v, k)));
      });
      break;
    case ValueFormat::kFp64:
      add_all([](const std::uint8_t* v, std::size_t k) { return stored_value<double, T>(v, k); });
      break;
  }
  const std::size_t used = bits.align();
  require<DecodeError>(used == index_bytes,
                       "message corrupt: the sparse indices end {} bytes before the values",
                       index_bytes - std::min(used, index_bytes));
  reader.skip(reader.remaining());
}

}  // namespace

void read_sparse_add_float(ByteReader& reader, std::span<const Segment> segments,
                           std::span<const std::size_t> counts, ValueFormat format,
                           std::span<float> out, float weight) {
  read_sparse_add_here<float>(reader, segments, counts, format, out, weight);
}
void read_sparse_add_double(ByteReader& reader, std::span<const Segment> segments,
                            std::span<const std::size_t> counts, ValueFormat format,
                            std::span<double> out, double weight) {
  read_sparse_add_here<double>(reader, segments, counts, format, out, weight);
}

}  // namespace gradcomp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gradcomp {

HWY_EXPORT(read_sparse_add_float);
HWY_EXPORT(read_sparse_add_double);

void read_sparse_add(ByteReader& reader, std::span<const Segment> segments,
                     std::span<const std::size_t> counts, ValueFormat format, std::span<float> out,
                     float weight) {
  HWY_DYNAMIC_DISPATCH(read_sparse_add_float)(reader, segments, counts, format, out, weight);
}
void read_sparse_add(ByteReader& reader, std::span<const Segment> segments,
                     std::span<const std::size_t> counts, ValueFormat format, std::span<double> out,
                     double weight) {
  HWY_DYNAMIC_DISPATCH(read_sparse_add_double)(reader, segments, counts, format, out, weight);
}

}  // namespace gradcomp
#endif  // HWY_ONCE
