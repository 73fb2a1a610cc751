#pragma once
// The sparse section shared by Top-k, hard threshold and private Random-k (docs/wire-format.md):
// for each segment, in the bit stream, a one-byte index-coding tag and the coded indices; after the
// bit stream (byte-aligned) the values of all segments in index order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/half.hpp"
#include "gradcomp/core/index_coding.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/core/message.hpp"

namespace gradcomp {

// Kept coordinates of one segment: indices local to the segment, strictly increasing.
struct SparseSegment {
  Segment segment;
  std::vector<std::uint32_t> indices;
};

void write_sparse_indices(std::vector<std::uint8_t>& out, std::span<const SparseSegment> parts,
                          IndexChoice choice);

// Whether `format` holds every T exactly (fp32 for float, fp64 for double): then a decoded value is
// the very value the encoder wrote.
template <class T>
bool carries_exactly(ValueFormat format) {
  return format == (std::is_same_v<T, float> ? ValueFormat::kFp32 : ValueFormat::kFp64);
}

// Appends the values scale·x[offset + index] of every part, in order: in T's own format each is
// written straight to its place in the message; in another format they are gathered in chunks
// and converted (no temporary of all values either way).
template <class T>
void write_sparse_values(std::vector<std::uint8_t>& out, std::span<const T> x,
                         std::span<const SparseSegment> parts, ValueFormat format, T scale = T{1}) {
  if (carries_exactly<T>(format)) {
    std::size_t total = 0;
    for (const auto& part : parts) total += part.indices.size();
    const std::size_t at = out.size();
    out.resize(at + total * sizeof(T));
    std::uint8_t* to = out.data() + at;
    for (const auto& part : parts) {
      const T* base = x.data() + part.segment.offset;
      for (const std::uint32_t i : part.indices) {
        const T value = scale * base[i];
        std::memcpy(to, &value, sizeof(T));  // the wire's byte order is the host's (append_values)
        to += sizeof(T);
      }
    }
    return;
  }
  constexpr std::size_t kChunk = 1024;
  T gathered[kChunk];
  std::size_t filled = 0;
  for (const auto& part : parts) {
    const T* base = x.data() + part.segment.offset;
    for (const std::uint32_t i : part.indices) {
      gathered[filled++] = scale * base[i];
      if (filled == kChunk) {
        append_values<T>(out, std::span<const T>(gathered, filled), format);
        filled = 0;
      }
    }
  }
  append_values<T>(out, std::span<const T>(gathered, filled), format);
}

// The decode of the values write_sparse_values(…, scale) wrote for `part`, as decoding adds them
// to zeros with weight 1: visit(offset + i, 0 + scale·x[offset + i]) for each kept i (0 + v: a −0
// decodes to +0). Only for a format that carries T exactly (carries_exactly). Returns false if a
// value is not finite (decoding refuses such a message), having visited part of them.
template <class T, class Visit>
bool visit_sparse_decode(std::span<const T> x, const SparseSegment& part, T scale, Visit&& visit) {
  const T* base = x.data() + part.segment.offset;
  bool finite = true;
  for (const std::uint32_t i : part.indices) {
    const T value = scale * base[i];
    finite = finite && std::isfinite(value);
    visit(part.segment.offset + i, T{0} + value);
  }
  return finite;
}

// That decode written into a zeroed d-vector.
template <class T>
bool scatter_sparse_decode(std::span<const T> x, const SparseSegment& part, T scale,
                           std::span<T> decoded) {
  return visit_sparse_decode(x, part, scale, [&](std::size_t i, T value) { decoded[i] = value; });
}

// That decode appended to carried coordinates and values (SparseDecode).
template <class T>
bool append_sparse_decode(std::span<const T> x, const SparseSegment& part, T scale,
                          SparseDecode<T>& sparse) {
  return visit_sparse_decode(x, part, scale, [&](std::size_t i, T value) {
    sparse.indices.push_back(static_cast<std::uint32_t>(i));
    sparse.values.push_back(value);
  });
}

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

// Reads the sparse section written above for these segments, with counts[s] indices in segment s,
// and adds weight·v at each: out[offset + index] += weight·v. One pass: the values are the last
// Σ counts × width bytes of the message, so each is read as its index is decoded (no list of
// indices). DecodeError for a truncated or corrupt section (bad indices, a byte between the
// indices and the values, a NaN or infinite value: then nothing is added); the reader ends at the
// message's end.
template <class T>
void read_sparse_add(ByteReader& reader, std::span<const Segment> segments,
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

}  // namespace gradcomp
