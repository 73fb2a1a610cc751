// The sparse section's decode (compress/sparse_codec.hpp's read_sparse_add), compiled once per
// instruction set by Highway's foreach_target: it is scalar code, but with BMI1/BMI2 (which the
// AVX2 and AVX-512 targets include) a code word's count of trailing zeros and its shifts are one
// instruction each, and a shift's count need not be in one register, where x86-64's baseline
// needs moves around them.
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/half.hpp"
#include "gradcomp/core/index_coding.hpp"
#include "gradcomp/core/prefetch.hpp"

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

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// A bitmap word's 56 coordinates (BitReader::read_bitmap_words) in vectors: 16 floats (8
// doubles) of `out` at a time, the values expanded into the kept lanes in a register
// (`vexpandps`: its register form, unlike the compress to memory, is fast on Zen 4), multiplied
// by the weight and added under the kept mask: the scalar loop's additions, bit for bit. The
// values are read a vector at a time from value k on: the caller has more than 56 left.
// Returns how many were kept.
inline std::size_t add_bitmap_word_native(float* out, std::uint64_t kept,
                                          const std::uint8_t* values, std::size_t k, float weight) {
  const float* value = reinterpret_cast<const float*>(values) + k;
  const __m512 scale = _mm512_set1_ps(weight);
  for (unsigned offset = 0; offset < 48; offset += 16) {
    const auto lanes = static_cast<__mmask16>(kept >> offset);
    const __m512 expanded = _mm512_maskz_expand_ps(lanes, _mm512_loadu_ps(value));
    float* const to = out + offset;
    _mm512_mask_storeu_ps(
        to, lanes, _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, to), _mm512_mul_ps(scale, expanded)));
    value += std::popcount(static_cast<unsigned>(lanes));
  }
  const auto lanes = static_cast<__mmask8>(kept >> 48);  // 48 + 8 = 56
  const __m256 expanded = _mm256_maskz_expand_ps(lanes, _mm256_loadu_ps(value));
  _mm256_mask_storeu_ps(out + 48, lanes,
                        _mm256_add_ps(_mm256_maskz_loadu_ps(lanes, out + 48),
                                      _mm256_mul_ps(_mm512_castps512_ps256(scale), expanded)));
  return static_cast<std::size_t>(std::popcount(kept));
}
inline std::size_t add_bitmap_word_native(double* out, std::uint64_t kept,
                                          const std::uint8_t* values, std::size_t k,
                                          double weight) {
  const double* value = reinterpret_cast<const double*>(values) + k;
  const __m512d scale = _mm512_set1_pd(weight);
  for (unsigned offset = 0; offset < 56; offset += 8) {
    const auto lanes = static_cast<__mmask8>(kept >> offset);
    const __m512d expanded = _mm512_maskz_expand_pd(lanes, _mm512_loadu_pd(value));
    double* const to = out + offset;
    _mm512_mask_storeu_pd(
        to, lanes, _mm512_add_pd(_mm512_maskz_loadu_pd(lanes, to), _mm512_mul_pd(scale, expanded)));
    value += std::popcount(static_cast<unsigned>(lanes));
  }
  return static_cast<std::size_t>(std::popcount(kept));
}
constexpr bool kVectorBitmap = true;
#else
template <class T>
std::size_t add_bitmap_word_native(T* /*out*/, std::uint64_t /*kept*/,
                                   const std::uint8_t* /*values*/, std::size_t /*k*/,
                                   T /*weight*/) {
  return 0;
}
constexpr bool kVectorBitmap = false;
#endif

#if HWY_TARGET == HWY_AVX3_DL  // with VBMI's byte permute

constexpr std::size_t kVectorSplitMinimum = 16;  // below it, the set-up costs more than it saves

// The terminators (the zero after each unary quotient) of a split Rice segment's quotients,
// which start at bit `from`: their offsets from `from`, at least `count` of them, to
// positions[1…] (positions[0] = −1, so that every quotient is the difference of two neighbours
// less one). 48 bits a step: the offsets of a step's zeros are the lane numbers compressed by
// them (`vpcompressd`, its register form), 16 at a time. False if the bytes end first.
inline bool find_terminators(std::span<const std::uint8_t> bytes, std::uint64_t from,
                             std::size_t count, std::vector<std::uint32_t>& positions) {
  constexpr unsigned kStep = 48;
  positions.resize(count + kStep + 16 + 1);
  positions[0] = ~0U;
  std::uint32_t* const out = positions.data() + 1;
  const std::uint64_t end = std::uint64_t{bytes.size()} * 8;
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  std::size_t found = 0;
  for (std::uint64_t at = from; found < count; at += kStep) {
    if (at >= end) return false;
    const std::uint64_t zeros =
        ~detail::bits_at(bytes, at) &
        BitWriter::mask(static_cast<unsigned>(std::min<std::uint64_t>(kStep, end - at)));
    __m512i offsets = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(at - from)));
    for (unsigned part = 0; part < kStep; part += 16) {
      const auto kept = static_cast<__mmask16>(zeros >> part);
      _mm512_storeu_si512(out + found, _mm512_maskz_compress_epi32(kept, offsets));
      found += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(kept)));
      offsets = _mm512_add_epi32(offsets, _mm512_set1_epi32(16));
    }
  }
  return true;
}

// How far the adds trail the decode in add_split_rice_native: the indices of block k are added
// while block k + kAddLag / 16 is decoded. Added right after their block's store, each index
// load waited on that 64-byte store; added in a pass of their own, the decode's arithmetic and
// the adds' cache misses did not overlap. Trailing by 128 indices (64 measured the same, 32 and
// a separate pass 10% slower) the decode runs while the adds' misses are outstanding.
// (A ring of 256 indices on the stack in place of the whole segment's measured 3–5% slower.)
constexpr std::size_t kAddLag = 128;

// The scalar end of add_split_rice_native: indices k… of the segment, from the terminators'
// offsets and the remainders, each checked as for_each_index checks it (and refused with its
// words: the vector loop hands a block here when any of its lanes fails) and added at once.
template <class Add>
void add_split_rice_tail(std::span<const std::uint8_t> bytes, std::uint64_t start, unsigned b,
                         std::size_t k, std::size_t count, std::size_t segment_size,
                         const std::uint32_t* positions, std::uint64_t previous_end, Add& add) {
  const std::uint64_t limit = segment_size >> b;
  for (; k < count; ++k) {
    // positions[k] is the terminator of index k − 1 (positions[0] = −1).
    const std::uint32_t quotient = positions[k + 1] - positions[k] - 1;
    require_unary_run_within(quotient, limit);
    const std::uint64_t index =
        previous_end + ((std::uint64_t{quotient} << b) |
                        (detail::bits_at(bytes, start + k * b) & BitWriter::mask(b)));
    require_index_inside(index, segment_size);
    add(k, index);
    previous_end = index + 1;
  }
}

// A split Rice segment's indices (docs/wire-format.md "Indices": count remainders of b bits from
// the reader's position, then the quotients in unary), each handed to add(k, index), the reader
// moved past them. Sixteen at a time: the quotients from find_terminators' offsets, the 16
// remainders from one 64-byte load by a byte permute (`vpermb`) and a per-lane shift — their
// 16·b bits start at the same bit within a byte every time, so the permute and the shifts are
// constants — and the indices as the prefix sum of gap + 1. False, with the reader where it was
// and nothing added, where the lanes cannot hold the segment (b > 25, or a segment of 2^27 or
// more: sixteen gaps of a valid stream then fit in 32 bits) or its quotients end past the bytes:
// for_each_index then decodes it and names the fault. A fault among the indices themselves (a
// quotient above the segment's, an index outside it) is refused here, with for_each_index's words
// and after the indices before it were added, as for_each_index adds them.
template <class Add>
inline bool add_split_rice_native(BitReader& reader, unsigned b, std::size_t count,
                                  std::size_t segment_size, std::vector<std::uint32_t>& positions,
                                  std::vector<std::uint32_t>& indices, Add&& add) {
  // Below a few groups the set-up costs more than the scalar decode.
  if (b == 0 || b > 25 || segment_size >= (std::size_t{1} << 27) || count < kVectorSplitMinimum) {
    return false;
  }
  const std::span<const std::uint8_t> bytes = reader.bytes();
  const std::uint64_t start = reader.bit_position();
  const std::uint64_t quotients = start + std::uint64_t{count} * b;
  if (quotients >= std::uint64_t{bytes.size()} * 8 ||
      std::uint64_t{bytes.size()} * 8 - quotients >= (std::uint64_t{1} << 31) ||
      !find_terminators(bytes, quotients, count, positions)) {
    return false;
  }
  const std::uint32_t* const terminator = positions.data() + 1;  // terminator[-1] = −1
  const auto limit = static_cast<std::uint32_t>(segment_size >> b);
  alignas(64) std::array<std::uint8_t, 64> field_bytes{};
  alignas(64) std::array<std::uint32_t, 16> field_shifts{};
  const auto first_bit = static_cast<unsigned>(start & 7);
  for (unsigned lane = 0; lane < 16; ++lane) {
    const unsigned bit = first_bit + lane * b;  // + b + 7 ≤ 32 + 8·(bit >> 3)
    for (unsigned j = 0; j < 4; ++j)
      field_bytes[4 * lane + j] = static_cast<std::uint8_t>((bit >> 3) + j);
    field_shifts[lane] = bit & 7;
  }
  const __m512i permute = _mm512_load_si512(field_bytes.data());
  const __m512i shifts = _mm512_load_si512(field_shifts.data());
  const __m512i low = _mm512_set1_epi32(static_cast<int>(BitWriter::mask(b)));
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i limits = _mm512_set1_epi32(static_cast<int>(limit));
  const __m512i segment = _mm512_set1_epi32(static_cast<int>(segment_size));
  const __m512i zero = _mm512_setzero_si512();
  const __m128i shift_b = _mm_cvtsi32_si128(static_cast<int>(b));
  __m512i carry = zero;  // the previous index + 1, in every lane
  indices.resize(count);
  const auto add_decoded = [&](std::size_t from, std::size_t to) {
    for (std::size_t j = from; j < to; ++j) add(j, indices[j]);
  };
  const std::size_t first_byte = start >> 3;
  std::size_t k = 0;
  for (; k + 16 <= count && first_byte + (k * b >> 3) + 64 <= bytes.size(); k += 16) {
    const __m512i ends = _mm512_loadu_si512(terminator + k);
    const __m512i quotient =
        _mm512_sub_epi32(_mm512_sub_epi32(ends, _mm512_loadu_si512(positions.data() + k)), one);
    const __m512i window = _mm512_loadu_si512(bytes.data() + first_byte + (k * b >> 3));
    const __m512i remainder =
        _mm512_and_si512(_mm512_srlv_epi32(_mm512_permutexvar_epi8(permute, window), shifts), low);
    __m512i sum =
        _mm512_add_epi32(_mm512_or_si512(_mm512_sll_epi32(quotient, shift_b), remainder), one);
    sum = _mm512_add_epi32(sum, _mm512_alignr_epi32(sum, zero, 15));
    sum = _mm512_add_epi32(sum, _mm512_alignr_epi32(sum, zero, 14));
    sum = _mm512_add_epi32(sum, _mm512_alignr_epi32(sum, zero, 12));
    sum = _mm512_add_epi32(sum, _mm512_alignr_epi32(sum, zero, 8));
    const __m512i next_ends = _mm512_add_epi32(sum, carry);
    // Quotients within the limit keep the sums from wrapping; the indices grow, so the last
    // lane's is the largest. A block with a fault goes to the tail, which names it.
    if ((_mm512_cmpgt_epu32_mask(quotient, limits) | _mm512_cmpgt_epu32_mask(next_ends, segment)) !=
        0) {
      break;
    }
    _mm512_storeu_si512(indices.data() + k, _mm512_sub_epi32(next_ends, one));
    if (k >= kAddLag) add_decoded(k - kAddLag, k - kAddLag + 16);
    carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), next_ends);
  }
  add_decoded(k >= kAddLag ? k - kAddLag : 0, k);
  add_split_rice_tail(bytes, start, b, k, count, segment_size, positions.data(),
                      static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm512_castsi512_si128(carry))),
                      add);
  reader.seek(quotients + terminator[count - 1] + 1);
  return true;
}
constexpr bool kVectorSplit = true;
#else
template <class Add>
inline bool add_split_rice_native(BitReader& /*reader*/, unsigned /*b*/, std::size_t /*count*/,
                                  std::size_t /*segment_size*/,
                                  std::vector<std::uint32_t>& /*positions*/,
                                  std::vector<std::uint32_t>& /*indices*/, Add&& /*add*/) {
  return false;
}
constexpr bool kVectorSplit = false;
#endif

// The decode's sink: adds weight·(value k) at base[index], and takes a whole 56-bit word of a
// segment coded as the support's bitmap (Rice, b = 0; BitReader::read_bitmap_words) in vectors
// where the target has them and the values are stored as T. Otherwise for_each_index hands
// such a word's set bits over one by one.
template <class T, class ValueAt>
struct AddValues {
  // References, as the lambda it replaced captured them: with copies the Rice decode of the
  // other b ran 5% slower.
  T* const& base;
  const std::uint8_t* const& values;
  const T& weight;
  const bool& native;
  const ValueAt& value_at;
  const std::size_t& size;  // the segment's

  void operator()(std::size_t k, std::uint64_t index) const {
    base[index] += weight * value_at(values, k);
  }
  [[gnu::noinline]] std::size_t bitmap_word(std::uint64_t start, std::uint64_t kept,
                                            std::size_t k) const {
    if (kVectorBitmap && native) {
      // The words walk the segment front to back, reading and writing every line: the lines
      // 16 KiB ahead asked for now, the vector adds waited less on them (5–10% at 32% density).
      prefetch_ahead(base, start, BitReader::kBitmapWord, size);
      return add_bitmap_word_native(base + start, kept, values, k, weight);
    }
    const std::size_t first = k;
    for (; kept != 0; kept &= kept - 1, ++k) (*this)(k, start + std::countr_zero(kept));
    return k - first;
  }
};

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
  const bool native = carries_exactly<T>(format);
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
      if (kVectorSplit && (tag & 0xC0U) == 0xC0U) {
        thread_local std::vector<std::uint32_t> positions;
        thread_local std::vector<std::uint32_t> indices;
        // Copies, not references: a store through base may alias a referenced weight, which
        // the loop then reloaded for every index (10% of the decode).
        const auto add = [base, segment_values, weight, value_at](std::size_t k,
                                                                  std::uint64_t index) {
          base[index] += weight * value_at(segment_values, k);
        };
        if (add_split_rice_native(bits, tag & 0x3FU, counts[s], segments[s].size, positions,
                                  indices, add)) {
          first += counts[s];
          continue;
        }
      }
      for_each_index(bits, tag, counts[s], segments[s].size,
                     AddValues<T, decltype(value_at)>{base, segment_values, weight, native,
                                                      value_at, segments[s].size});
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
