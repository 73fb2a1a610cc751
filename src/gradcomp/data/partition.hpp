#pragma once
// How samples are split over the n workers (docs/architecture.md, data/): each worker's shard is a list of
// sample indices.
//   iid             a seeded shuffle cut into n near-equal parts
//   contiguous      the file order cut into n parts (with least-squares groups = n: one optimum
//                   per worker)
//   label-skew:classes=c   every worker gets samples of c classes only: worker w holds classes
//                   (w·c + k) mod K, each class split evenly over its holders (classes no worker
//                   holds, when n·c < K, are left out)
//   dirichlet:alpha=a      per class, proportions over workers drawn from Dirichlet(a)
// A worker left without samples is an error naming the fix.
#include <cstdint>
#include <string_view>
#include <vector>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

using Shards = std::vector<std::vector<std::size_t>>;

Shards partition(const Dataset& data, std::size_t workers, std::string_view spec,
                 std::uint64_t seed);

}  // namespace gradcomp
