#pragma once
// Helpers shared by the tests: deterministic vectors and norms.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
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

}  // namespace gradcomp::testing
