#pragma once
// NumPy .npy files (format versions 1.0–3.0), little-endian float32 or float64, C order.
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace gradcomp {

struct NpyArray {
  std::vector<std::size_t> shape;
  std::variant<std::vector<float>, std::vector<double>> data;
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] bool is_double() const { return data.index() == 1; }
};

// InvalidInput naming the file and the problem for anything but a readable float32/float64 array.
NpyArray read_npy(const std::string& path);

// Writes atomically (temporary file, then rename).
template <class T>
void write_npy(const std::string& path, const std::vector<T>& values,
               const std::vector<std::size_t>& shape);

// Writes `contents` to `path` atomically: a reader sees the old file or the whole new one.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace gradcomp
