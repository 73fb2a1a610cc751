#pragma once
// Helpers shared by the tests: deterministic vectors and norms, and a scratch folder per process.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "gradcomp/core/random.hpp"

namespace gradcomp::testing {

// Gaussian vector from a test stream; distinct (seed, layer) give independent vectors.
template <class T>
std::vector<T> gaussian_vector(std::size_t n, std::uint64_t seed, std::uint32_t salt = 0) {
  RandomStream stream(seed, Purpose::kTest, 0, salt, 0);
  std::vector<T> x(n);
  for (auto& v : x) v = static_cast<T>(stream.normal());
  return x;
}

template <class T>
double squared_norm(std::span<const T> x) {
  double s = 0;
  for (const T v : x) s += static_cast<double>(v) * static_cast<double>(v);
  return s;
}

template <class T>
double squared_distance(std::span<const T> a, std::span<const T> b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    s += d * d;
  }
  return s;
}

// The bytes of v's elements, for comparing results bit for bit (−0 and +0 differ, as do NaNs).
template <class T>
std::vector<std::uint8_t> object_bytes(const std::vector<T>& v) {
  std::vector<std::uint8_t> bytes(v.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

// A folder of this test process's own under the temporary directory, removed when it exits.
// ctest runs every test case as its own process, two or more at once: files at fixed paths
// shared between cases would be rewritten by one while another reads them. A child forked by a
// death test inherits the folder and leaves it to its parent.
inline const std::filesystem::path& scratch_directory() {
  struct Scratch {
    pid_t owner = ::getpid();
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("gradcomp-test-" + std::to_string(owner));
    Scratch() { std::filesystem::create_directories(path); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() {
      if (::getpid() != owner) return;
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Scratch scratch;
  return scratch.path;
}

}  // namespace gradcomp::testing
