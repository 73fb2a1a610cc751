#pragma once
// Row operations of the linear models over dense or sparse (CSR) datasets, in double.
#include <span>

#include "gradcomp/core/elementwise.hpp"
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
    // 32 partial sums in a fixed order (core/elementwise.hpp): vector code on every CPU (one
    // serial sum runs at the add's latency), the same bits on all of them.
    sum = elementwise<T>().dot_row(data.dense.data() + i * data.features, x.data() + offset,
                                   data.features);
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
