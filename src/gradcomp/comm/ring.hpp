#pragma once
// The schedule of a ring allreduce (reduce-scatter, then allgather) over p participants, shared by
// the MPI implementation (mpi_communicator.cpp) and the traffic model (exchange/traffic.cpp), so
// that the bytes the model predicts are the bytes the implementation moves.
//
// m elements are cut into p chunks, chunk c = [⌊c·m/p⌋, ⌊(c+1)·m/p⌋). At reduce-scatter step
// s = 0..p−2 rank r sends chunk (r − s) mod p to rank r+1 and adds the chunk (r − s − 1) mod p it
// receives from rank r−1; afterwards rank r holds the full sum of chunk (r + 1) mod p. At
// allgather step s rank r forwards chunk (r + 1 − s) mod p and receives chunk (r − s) mod p.
#include <cstddef>

namespace gradcomp::ring {

struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  [[nodiscard]] std::size_t size() const { return end - begin; }
};

inline std::size_t wrap(std::size_t rank, std::size_t back, std::size_t p) {
  return (rank + p - back % p) % p;
}

inline Range chunk(std::size_t m, std::size_t p, std::size_t c) {
  return {c * m / p, (c + 1) * m / p};
}

inline std::size_t reduce_scatter_send(std::size_t r, std::size_t s, std::size_t p) {
  return wrap(r, s, p);
}
inline std::size_t reduce_scatter_receive(std::size_t r, std::size_t s, std::size_t p) {
  return wrap(r, s + 1, p);
}
inline std::size_t allgather_send(std::size_t r, std::size_t s, std::size_t p) {
  return wrap(r + 1, s, p);
}
inline std::size_t allgather_receive(std::size_t r, std::size_t s, std::size_t p) {
  return wrap(r, s, p);
}

// Elements rank r sends (and, by symmetry of the schedule, receives) in one allreduce of m.
// Each phase's chunk index, over the steps s = 0..p−1, runs through every chunk once; the phase
// has steps 0..p−2 only, so it moves all m elements but the chunk its step p−1 would move (O(1)
// instead of a sum over steps: the in-process simulator accounts a step of 20 workers with it).
inline std::size_t elements_sent(std::size_t m, std::size_t p, std::size_t r) {
  if (p < 2) return 0;
  return 2 * m - chunk(m, p, reduce_scatter_send(r, p - 1, p)).size() -
         chunk(m, p, allgather_send(r, p - 1, p)).size();
}
inline std::size_t elements_received(std::size_t m, std::size_t p, std::size_t r) {
  if (p < 2) return 0;
  return 2 * m - chunk(m, p, reduce_scatter_receive(r, p - 1, p)).size() -
         chunk(m, p, allgather_receive(r, p - 1, p)).size();
}

}  // namespace gradcomp::ring
