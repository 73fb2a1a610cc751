#pragma once
// Dataset: samples as the objectives read them (docs/architecture.md, data/). Features are dense
// row-major float (images, CSV, .npy, generated data) or sparse CSR (LIBSVM files); labels are
// class indices 0..classes−1 for classification (binary sets use 0/1 here; the logistic objective
// maps them to ±1) or real targets for regression (classes = 0).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gradcomp {

struct Dataset {
  std::string name;  // where it came from: a path or a generator spec
  std::size_t samples = 0;
  std::size_t features = 0;
  std::size_t classes = 0;         // 0: regression
  std::vector<std::size_t> shape;  // one sample's shape ({1, 28, 28} for images; {features})

  std::vector<float> dense;  // samples × features, when !sparse
  bool sparse = false;
  std::vector<std::size_t> row_offsets;  // samples + 1, when sparse
  std::vector<std::uint32_t> columns;    // 0-based, increasing within a row
  std::vector<float> values;

  std::vector<float> labels;  // samples

  [[nodiscard]] std::span<const float> row(std::size_t i) const {
    return std::span<const float>(dense).subspan(i * features, features);
  }
  // Checks the invariants above; InternalError if a loader broke them.
  void check() const;
  // A fingerprint of what was loaded (shape, values, indices, labels; not the name): the ranks of
  // one job compare it, so a same-named file with other contents is noticed.
  [[nodiscard]] std::uint64_t content_hash() const;
};

// The same samples with dense rows (neural networks read only dense rows). A dense set is returned
// as it is. InvalidInput naming the set and the sizes when the dense rows would take more than
// `memory_limit` bytes.
Dataset densified(Dataset from, std::uint64_t memory_limit);

// Every sample of `from` whose index is listed, in that order (the test split of a generated set).
Dataset subset(const Dataset& from, std::span<const std::size_t> indices);

}  // namespace gradcomp
