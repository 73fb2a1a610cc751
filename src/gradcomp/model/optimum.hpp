#pragma once
// The reference optimum of a convex objective on its training set (docs/reproduction.md §5.1:
// [HardThreshold] uses L-BFGS to 1e-30): L-BFGS with memory 20 and a backtracking line search in
// double precision, until ‖∇f‖ ≤ 1e-10·max(1, ‖∇f(x_0)‖) or 5000 iterations. The result is cached
// in .gradcomp-cache/ (next to where the runs are started), keyed by a hash of the data and the
// objective's spec, so sweeps and reruns solve it once.
#include <string>
#include <vector>

#include "gradcomp/model/objective.hpp"

namespace gradcomp {

struct Optimum {
  std::vector<double> x;
  double value = 0;          // f*
  double gradient_norm = 0;  // ‖∇f(x*)‖ reached
  bool cached = false;
};

Optimum find_optimum(Objective<double>& objective, const Dataset& train,
                     const std::string& cache_directory = ".gradcomp-cache");

}  // namespace gradcomp
