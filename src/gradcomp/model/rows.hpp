#pragma once
// Row operations of the linear models over dense or sparse (CSR) datasets, in double.
#include <span>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

// a_i · x over the row's stored entries (x has data.features elements, starting at offset).
template <class T>
double row_dot(const Dataset& data, std::size_t i, std::span<const T> x, std::size_t offset = 0) {
  double sum = 0;
  if (data.sparse) {
    for (std::size_t k = data.row_offsets[i]; k < data.row_offsets[i + 1]; ++k) {
      sum += static_cast<double>(data.values[k]) * static_cast<double>(x[offset + data.columns[k]]);
    }
  } else {
    // Eight independent partial sums: the compiler vectorises them (one serial sum runs at the
    // add latency), and the order is fixed, so results stay bit-identical across runs.
    const float* row = data.dense.data() + i * data.features;
    const T* xs = x.data() + offset;
    constexpr std::size_t kLanes = 8;
    double partial[kLanes] = {};
    std::size_t j = 0;
    for (; j + kLanes <= data.features; j += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        partial[l] += static_cast<double>(row[j + l]) * static_cast<double>(xs[j + l]);
      }
    }
    for (; j < data.features; ++j) sum += static_cast<double>(row[j]) * static_cast<double>(xs[j]);
    for (const double p : partial) sum += p;
  }
  return sum;
}

// out[offset + j] += scale · a_ij (double accumulator).
inline void row_axpy(const Dataset& data, std::size_t i, double scale, std::span<double> out,
                     std::size_t offset = 0) {
  if (data.sparse) {
    for (std::size_t k = data.row_offsets[i]; k < data.row_offsets[i + 1]; ++k) {
      out[offset + data.columns[k]] += scale * static_cast<double>(data.values[k]);
    }
  } else {
    const float* row = data.dense.data() + i * data.features;
    for (std::size_t j = 0; j < data.features; ++j)
      out[offset + j] += scale * static_cast<double>(row[j]);
  }
}

}  // namespace gradcomp
