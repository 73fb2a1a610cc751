#pragma once
// The sparse section shared by Top-k, hard threshold and private Random-k (docs/wire-format.md):
// for each segment, in the bit stream, a one-byte index-coding tag and the coded indices; after the
// bit stream (byte-aligned) the values of all segments in index order.
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

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

// Reads the index section written above; counts[s] is the number of indices of segment s.
// Returns global indices (segment offset added), in segment order.
std::vector<std::size_t> read_sparse_indices(ByteReader& reader, std::span<const Segment> segments,
                                             std::span<const std::size_t> counts);

// Appends the values scale·x[offset + index] of every part, in order, gathered in chunks straight
// into the message (no temporary of all values).
template <class T>
void write_sparse_values(std::vector<std::uint8_t>& out, std::span<const T> x,
                         std::span<const SparseSegment> parts, ValueFormat format, T scale = T{1}) {
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

// Whether `format` holds every T exactly (fp32 for float, fp64 for double): then a decoded value is
// the very value the encoder wrote.
template <class T>
bool carries_exactly(ValueFormat format) {
  return format == (std::is_same_v<T, float> ? ValueFormat::kFp32 : ValueFormat::kFp64);
}

// What decoding the values write_sparse_values(…, scale) wrote for `part` adds to a zeroed output
// with weight 1: decoded[offset + i] = 0 + scale·x[offset + i] (0 + v: a −0 decodes to +0).
// Only for a format that carries T exactly (carries_exactly). Returns false if a value is not
// finite (decoding refuses such a message), having written part of it.
template <class T>
bool scatter_sparse_decode(std::span<const T> x, const SparseSegment& part, T scale,
                           std::span<T> decoded) {
  const T* base = x.data() + part.segment.offset;
  T* out = decoded.data() + part.segment.offset;
  bool finite = true;
  for (const std::uint32_t i : part.indices) {
    const T value = scale * base[i];
    finite = finite && std::isfinite(value);
    out[i] = T{0} + value;
  }
  return finite;
}

template <class T>
void read_sparse_values(ByteReader& reader, std::span<const std::size_t> indices,
                        ValueFormat format, std::span<T> out, T weight) {
  read_values<T>(reader, indices.size(), format,
                 [&](std::size_t i, T value) { out[indices[i]] += weight * value; });
}

}  // namespace gradcomp
