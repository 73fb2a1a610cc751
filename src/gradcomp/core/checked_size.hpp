#pragma once
// Sizes computed from input (the shapes of a layout, the dimensions in a file's header, offsets):
// a product or a sum that does not fit in 64 bits is the input's fault and must be reported as
// such, never wrap around into a small number that later indexes out of bounds.
#include <cstddef>
#include <optional>
#include <span>

namespace gradcomp {

[[nodiscard]] inline std::optional<std::size_t> checked_mul(std::size_t a, std::size_t b) {
  std::size_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

[[nodiscard]] inline std::optional<std::size_t> checked_add(std::size_t a, std::size_t b) {
  std::size_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

// The element count of a shape, or nullopt when it does not fit in 64 bits.
[[nodiscard]] inline std::optional<std::size_t> checked_product(
    std::span<const std::size_t> shape) {
  std::optional<std::size_t> count = 1;
  for (const std::size_t dim : shape) {
    count = checked_mul(*count, dim);
    if (!count) return std::nullopt;
  }
  return count;
}

}  // namespace gradcomp
