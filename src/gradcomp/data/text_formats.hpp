#pragma once
// Text data formats, validated line by line: every error names the file, the line and the problem.
//   LIBSVM / SVMlight: "label index:value index:value ..." with 1-based, strictly increasing
//     indices (the convex experiments of [HardThreshold] use it). Labels: {−1, +1} or {0, 1}
//     (binary: stored as 0/1), other integers (classes 0..K−1 after mapping sorted distinct
//     labels), or, with regression, any number.
//   CSV: one sample per line, the label first, then the features; an optional header line whose
//     first field is not a number; every line the same width.
#include <cstddef>
#include <string>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

enum class LabelKind { kClassification, kRegression };

// features = 0: the largest index seen; otherwise indices above it are an error.
Dataset read_libsvm(const std::string& path, std::size_t features = 0,
                    LabelKind kind = LabelKind::kClassification);
Dataset read_csv(const std::string& path, LabelKind kind = LabelKind::kClassification);
// NumPy: features (samples × features, or samples × d1 × d2 ... kept as the sample shape) and
// labels (samples), float32 or float64 .npy files.
Dataset read_npy_dataset(const std::string& features, const std::string& labels,
                         LabelKind kind = LabelKind::kClassification);

// Classification labels as read (e.g. −1/+1, 1..10) → 0..K−1 by sorted distinct value; a
// non-integer label is an error naming the file and the line.
void map_class_labels(Dataset& data, const std::vector<std::size_t>& lines);

}  // namespace gradcomp
