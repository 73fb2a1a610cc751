#pragma once
// Software prefetch for one-pass kernels over large vectors. On this project's machine (a VM) the
// hardware prefetcher alone leaves compute-heavy streaming passes waiting on memory; asking for
// the cache lines 16 KiB ahead, a few per piece of work, took QSGD's encode of 25M floats from
// 27 ms to 22 ms and Top-k 1% from 13.3 ms to 12.3 ms (docs/benchmarks.md).
#include <cstddef>

namespace gradcomp {

inline constexpr std::size_t kPrefetchBytes = 16384;
inline constexpr std::size_t kCacheLine = 64;
// Elements from which a one-pass kernel prefetches: below, the vector is about a core's L2.
inline constexpr std::size_t kPrefetchFrom = std::size_t{1} << 18;

// Prefetches the cache lines of data[i .. i + count) shifted kPrefetchBytes ahead, those within
// data[0, size): a prefetch cannot fault, but an out-of-range pointer is undefined behaviour.
template <class T>
inline void prefetch_ahead(const T* data, std::size_t i, std::size_t count, std::size_t size) {
  constexpr std::size_t kAhead = kPrefetchBytes / sizeof(T);
  constexpr std::size_t kLineElements = kCacheLine / sizeof(T);
  const std::size_t end = i + kAhead + count < size ? i + kAhead + count : size;
  for (std::size_t j = i + kAhead; j < end; j += kLineElements) __builtin_prefetch(data + j);
}

}  // namespace gradcomp
