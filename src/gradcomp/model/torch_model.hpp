#pragma once
// Neural networks through libtorch's C++ frontend (CPU, float): `mlp:hidden=128` (or 256/128 for
// two hidden layers) and `lenet` (LeNet-5 for 1×28×28 images). The network's parameters and
// gradients are views into two flat buffers laid out as the objective's Layout (named like
// libtorch's parameters: "0.weight", ...), so compressors see named layers and the network reads
// the algorithm's point with one copy per evaluation.
#include <memory>
#include <string>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/model/objective.hpp"

namespace gradcomp {

// InvalidInput for a shape the network cannot take (LeNet needs 1×28×28 images).
std::unique_ptr<Objective<float>> make_torch_objective(const std::string& name,
                                                       const Params& params, const Dataset& train,
                                                       std::uint64_t seed);

}  // namespace gradcomp
