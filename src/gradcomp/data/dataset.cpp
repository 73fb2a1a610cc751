#include "gradcomp/data/dataset.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "gradcomp/core/checked_size.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/fnv_hash.hpp"

namespace gradcomp {

std::uint64_t Dataset::content_hash() const {
  const std::size_t header[] = {samples, features, classes, sparse ? std::size_t{1} : 0};
  return FnvHash()
      .add_bytes(header, sizeof header)
      .add_span(std::span<const std::size_t>(shape))
      .add_words(std::span<const float>(dense))
      .add_words(std::span<const std::size_t>(row_offsets))
      .add_words(std::span<const std::uint32_t>(columns))
      .add_words(std::span<const float>(values))
      .add_words(std::span<const float>(labels))
      .value();
}

void Dataset::check() const {
  require<InternalError>(labels.size() == samples, "{}: {} labels for {} samples", name,
                         labels.size(), samples);
  if (sparse) {
    require<InternalError>(row_offsets.size() == samples + 1 &&
                               row_offsets.back() == values.size() &&
                               columns.size() == values.size(),
                           "{}: inconsistent sparse rows", name);
  } else {
    require<InternalError>(dense.size() == samples * features, "{}: {} values for {} x {}", name,
                           dense.size(), samples, features);
  }
}

Dataset densified(Dataset from, std::uint64_t memory_limit) {
  if (!from.sparse) return from;
  const std::size_t dims[] = {from.samples, from.features, sizeof(float)};
  const std::optional<std::size_t> size = checked_product(dims);
  const double bytes = size ? static_cast<double>(*size) : INFINITY;
  require(size.has_value() && *size <= memory_limit,
          "'{}' is sparse ({} samples, {} features); neural networks read dense rows, which would "
          "take {:.3g} GB, more than the {:.3g} GB allowed (half this machine's memory); use a "
          "linear model (logistic, least-squares, softmax), which reads sparse rows, fewer samples "
          "(data.train_samples) or fewer features (data.features)",
          from.name, from.samples, from.features, bytes / 1e9,
          static_cast<double>(memory_limit) / 1e9);
  from.dense.assign(from.samples * from.features, 0.0F);
  for (std::size_t i = 0; i < from.samples; ++i) {
    for (std::size_t k = from.row_offsets[i]; k < from.row_offsets[i + 1]; ++k)
      from.dense[i * from.features + from.columns[k]] = from.values[k];
  }
  from.sparse = false;
  from.row_offsets.clear();
  from.columns.clear();
  from.values.clear();
  from.shape = {from.features};
  return from;
}

Dataset subset(const Dataset& from, std::span<const std::size_t> indices) {
  Dataset out;
  out.name = from.name;
  out.features = from.features;
  out.classes = from.classes;
  out.shape = from.shape;
  out.sparse = from.sparse;
  out.samples = indices.size();
  if (from.sparse) out.row_offsets.push_back(0);
  for (const std::size_t i : indices) {
    out.labels.push_back(from.labels[i]);
    if (from.sparse) {
      for (std::size_t k = from.row_offsets[i]; k < from.row_offsets[i + 1]; ++k) {
        out.columns.push_back(from.columns[k]);
        out.values.push_back(from.values[k]);
      }
      out.row_offsets.push_back(out.values.size());
    } else {
      const auto r = from.row(i);
      out.dense.insert(out.dense.end(), r.begin(), r.end());
    }
  }
  return out;
}

}  // namespace gradcomp
