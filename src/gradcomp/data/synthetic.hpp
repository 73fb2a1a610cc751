#pragma once
// Generated data sets with a seed (the gisette and madelon files cannot be downloaded here;
// generated data of the same shape stands in for them, docs/data.md):
//   madelon:samples=2600,features=500,informative=5,redundant=15,separation=1,flip=0.01
//     Guyon's madelon construction: clusters at the vertices of a hypercube in the informative
//     dimensions (two per class), each a Gaussian with a random covariance; redundant features
//     are random linear combinations of the informative ones; the rest is noise. Binary labels.
//   least-squares:samples=4000,features=50,noise=0.1,dissimilarity=1,groups=8
//     y = aᵀ(x* + ζ·δ_g) + σε for samples of group g (contiguous blocks): each group's optimum
//     is shifted by ζδ_g, so with a contiguous partition the workers' gradients differ by ~ζ
//     ([Heterogeneous]).
//   logistic:samples=4000,features=50,condition=100,noise=0.1
//     features scaled so the covariance's condition number is `condition`; labels
//     sign(aᵀw* + σε) as 0/1.
#include <string_view>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

Dataset generate_dataset(std::string_view spec, std::uint64_t seed);

}  // namespace gradcomp
