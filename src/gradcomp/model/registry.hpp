#pragma once
// Objectives by spec: logistic:l2=auto, least-squares:l2=0, softmax:l2=0 (analytic, float or
// double), mlp:hidden=128 and lenet (libtorch, float only).
#include <memory>
#include <string_view>

#include "gradcomp/model/objective.hpp"

namespace gradcomp {

// True for the neural networks (mlp, lenet, resnet): they read dense rows only.
bool reads_dense_rows_only(std::string_view spec);

template <class T>
std::unique_ptr<Objective<T>> make_objective(std::string_view spec, const Dataset& train,
                                             std::uint64_t seed);

}  // namespace gradcomp
