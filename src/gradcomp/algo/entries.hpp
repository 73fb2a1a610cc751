#pragma once
// Every algorithm file contributes its registry entries through one of these (algo/registry.cpp
// lists them in the order `gradcomp list` prints).
#include <vector>

#include "gradcomp/algo/registry.hpp"

namespace gradcomp {

std::vector<AlgorithmEntry> sgd_entries();
std::vector<AlgorithmEntry> ef_entries();
std::vector<AlgorithmEntry> ef_scaled_entries();
std::vector<AlgorithmEntry> def_entries();
std::vector<AlgorithmEntry> dist_ef_entries();
std::vector<AlgorithmEntry> sign_vote_entries();
std::vector<AlgorithmEntry> dqsgd_entries();
std::vector<AlgorithmEntry> diana_entries();
std::vector<AlgorithmEntry> ef_bias_correction_entries();
std::vector<AlgorithmEntry> ec_sgd_diana_entries();
std::vector<AlgorithmEntry> momentum_compression_entries();
std::vector<AlgorithmEntry> ef21_entries();

}  // namespace gradcomp
