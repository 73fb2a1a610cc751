#pragma once
// The elementwise loops of one step that run per worker on d-vectors (error feedback's p = e + γg,
// p/γ and e = p − γ·C(p/γ), the error norms, the linear models' row products), compiled for each
// instruction set and chosen at run time like the compressors' kernels (docs/library.md,
// "Portable binaries"): a portable build otherwise runs them with the baseline's 128-bit vectors.
// Every target gives the same bits: the elementwise loops do one rounding per operation
// (-ffp-contract=off, no fused multiply-add), and a sum adds 32 partial sums in a fixed order
// (lane l takes the elements i ≡ l mod 32 of the whole groups of 32; the rest is summed first,
// then the lanes in order).
#include <cstddef>

namespace gradcomp {

template <class T>
struct ElementwiseKernels {
  void (*add_scaled)(const T* a, T scale, const T* b, T* out, std::size_t n);  // out = a + s·b
  void (*subtract_scaled)(const T* a, T scale, const T* b, T* out,
                          std::size_t n);  // out = a − s·b
  // out = a − s·b, returning Σ out² as squared_norm(out) would: error feedback's e ← p − s·C
  // and the error's norm in one pass (s = 1 gives a − b exactly).
  double (*subtract_scaled_norm)(const T* a, T scale, const T* b, T* out, std::size_t n);
  // out = a − s·b, returning Σ b² as squared_norm(b) would: DEF's z = x − κe and the error's
  // norm in one pass (out must not alias b).
  double (*subtract_scaled_norm_of_b)(const T* a, T scale, const T* b, T* out, std::size_t n);
  void (*multiply)(const T* a, T factor, T* out, std::size_t n);  // out = a·f
  // x ← x − a, writing only the cache lines of x where a has an element other than +0 (x − (+0)
  // is x, bit for bit): a sparse update (RBGS's block, a sparse aggregate) leaves x's other lines
  // unwritten, so the other cores reading x keep their copies instead of fetching all of x again.
  void (*subtract_changed)(T* x, const T* a, std::size_t n);
  // DEF's worker input with the gradient g, weight decay w at the point z and the error e:
  //   without momentum  p = s·(g + w·z) + e
  //   with momentum     m = μ·m + (g + w·z),  p = s·m + e
  void (*decayed_input)(const T* g, T w, const T* z, T s, const T* e, T* p, std::size_t n);
  void (*momentum_input)(T* m, T mu, const T* g, T w, const T* z, T s, const T* e, T* p,
                         std::size_t n);
  double (*squared_norm)(const T* v, std::size_t n);               // Σ v², in double
  double (*dot_row)(const float* row, const T* x, std::size_t n);  // Σ row·x, in double
  // dot_row's sum (the same bits) while the n floats at `ahead` (the next worker's row) are
  // prefetched into L2, a cache line per 16 elements: their loads overlap this row's arithmetic.
  double (*dot_row_ahead)(const float* row, const T* x, std::size_t n, const float* ahead);
  // The linear models' gradient from one row (double arithmetic, model/linear_objectives.cpp):
  //   start_sum:   sum = 0 + s·row
  //   add_to_sum:  sum = sum + s·row
  //   finish:      out = T((sum + s·row) + μ·x), or T((0 + s·row) + μ·x) when sum is null;
  //                returns whether every out is finite (the trainer's scan for NaN and infinity,
  //                done in the pass that writes them).
  void (*start_sum)(const float* row, double slope, double* sum, std::size_t n);
  void (*add_to_sum)(const float* row, double slope, double* sum, std::size_t n);
  bool (*finish_gradient)(const double* sum, const float* row, double slope, double l2, const T* x,
                          T* out, std::size_t n);
  // The same three steps at DEF's detached point z = x − κ·e computed where it is read, not
  // stored (z_i = x_i − κ·e_i in T: subtract_scaled's bits), for one row:
  //   dot_detached_row:     Σ row·z as dot_row(row, z) (ahead: dot_row_ahead's prefetch, or null)
  //   finish_detached:      out = T((0 + s·row) + μ·z), as finish_gradient with a null sum
  //   detached_input:       e ← s·(g + w·z) + e, as decayed_input(g, w, z, s, e, e)
  double (*dot_detached_row)(const float* row, const T* x, T kappa, const T* e, std::size_t n,
                             const float* ahead);
  bool (*finish_detached)(const float* row, double slope, double l2, const T* x, T kappa,
                          const T* e, T* out, std::size_t n);
  void (*detached_input)(const T* g, T w, const T* x, T kappa, T s, T* e, std::size_t n);
  // finish_detached then detached_input without the gradient written out (a chunk of it at a
  // time in L1): e ← s·(g + w·z) + e with g = T((0 + slope·row) + l2·z), the same bits. Returns n,
  // or the first i whose g_i is not finite, with *bad = g_i; e is then updated only in part.
  std::size_t (*detached_row_input)(const float* row, double slope, double l2, const T* x, T kappa,
                                    T w, T s, T* e, std::size_t n, T* bad);
};

// The kernels for the best instruction set of this CPU (chosen once).
template <class T>
const ElementwiseKernels<T>& elementwise();
// The kernels Highway's dispatch chooses now (the tests force each instruction set in turn).
template <class T>
ElementwiseKernels<T> dispatched_elementwise();

}  // namespace gradcomp
