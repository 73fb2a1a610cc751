#include "gradcomp/model/gram_eigenvalue.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "gradcomp/core/npy.hpp"  // write_file_atomically
#include "gradcomp/model/rows.hpp"

namespace gradcomp {

double largest_gram_eigenvalue(const Dataset& data) {
  constexpr int kMaxRounds = 200;
  constexpr double kSettled = 1e-9;  // relative change between two rounds
  std::vector<double> v(data.features, 1.0 / std::sqrt(static_cast<double>(data.features)));
  std::vector<double> w(data.features);
  double eigenvalue = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    std::fill(w.begin(), w.end(), 0.0);
    for (std::size_t i = 0; i < data.samples; ++i) {
      row_axpy(data, i, row_dot<double>(data, i, std::span<const double>(v)), w);
    }
    double norm = 0;
    for (const double x : w) norm += x * x;
    norm = std::sqrt(norm);
    if (norm == 0) return 0;
    const bool settled = std::abs(norm - eigenvalue) <= kSettled * norm;
    eigenvalue = norm;
    for (std::size_t j = 0; j < w.size(); ++j) v[j] = w[j] / norm;
    if (settled) break;
  }
  return eigenvalue;
}

double cached_gram_eigenvalue(const Dataset& data, const std::string& cache_directory) {
  const std::string path =
      fmt::format("{}/gram-eigenvalue-{:016x}.txt", cache_directory, data.content_hash());
  if (std::ifstream in(path); in) {
    double cached = 0;
    if (in >> cached && std::isfinite(cached) && cached >= 0) return cached;
  }
  const double eigenvalue = largest_gram_eigenvalue(data);
  std::error_code ignored;
  std::filesystem::create_directories(cache_directory, ignored);
  if (!ignored) {
    try {
      write_file_atomically(path, fmt::format("{:.17g}\n", eigenvalue));
    } catch (const std::exception&) {  // a read-only working directory: run without the cache
    }
  }
  return eigenvalue;
}

}  // namespace gradcomp
