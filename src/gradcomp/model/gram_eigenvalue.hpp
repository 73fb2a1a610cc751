#pragma once
// λ_max(AᵀA) of a data matrix A, the [HardThreshold] smoothness constant of the linear models
// (docs/reproduction.md §5.1), by power iteration. Each round reads the whole data set, so the
// result is cached beside the optimum f* (model/optimum.hpp), keyed by the data's content hash:
// a rerun, a sweep's next arm or the double-precision copy of the objective reads it back.
#include <string>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

// Power iteration from a fixed start, until the estimate changes by at most 1e-9 relative between
// two rounds (or 200 rounds). No cache.
double largest_gram_eigenvalue(const Dataset& data);

// The same, read from or written to `cache_directory` (an unwritable directory only loses the
// cache).
double cached_gram_eigenvalue(const Dataset& data,
                              const std::string& cache_directory = ".gradcomp-cache");

}  // namespace gradcomp
