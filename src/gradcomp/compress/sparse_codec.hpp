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
  // Optional: the same kept set as a bitmap (write_indices' `support`), where the selection made
  // one in passing; the bitmap code (Rice, b = 0) is then written from it. Borrowed: valid for
  // the write_sparse_indices call only.
  std::span<const std::uint8_t> support;
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

// Reads the sparse section written above for these segments, with counts[s] indices in segment s,
// and adds weight·v at each: out[offset + index] += weight·v. One pass: the values are the last
// Σ counts × width bytes of the message, so each is read as its index is decoded (no list of
// indices). DecodeError for a truncated or corrupt section (bad indices, a byte between the
// indices and the values, a NaN or infinite value: then nothing is added); the reader ends at the
// message's end. Runs the copy compiled for the best instruction set the CPU has
// (compress/sparse_decode.cpp).
void read_sparse_add(ByteReader& reader, std::span<const Segment> segments,
                     std::span<const std::size_t> counts, ValueFormat format, std::span<float> out,
                     float weight);
void read_sparse_add(ByteReader& reader, std::span<const Segment> segments,
                     std::span<const std::size_t> counts, ValueFormat format, std::span<double> out,
                     double weight);

}  // namespace gradcomp
