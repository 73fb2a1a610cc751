#pragma once
// Template bodies of the value codec declared in message.hpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/half.hpp"

namespace gradcomp {

// Throws the ValueOverflow that names the first of `values` whose narrowing to `format` is not
// finite (largest: the format's largest finite value).
template <class T, class Narrow>
[[noreturn]] void reject_overflow(std::span<const T> values, const char* format, double largest,
                                  Narrow narrow) {
  for (const T v : values) {
    if (!std::isfinite(narrow(v))) {
      throw ValueOverflow(fmt::format(
          "a value of {} overflows {} (largest finite {}); scale the vector down or send wider "
          "values (values = \"fp32\" or \"fp64\")",
          static_cast<double>(v), format, largest));
    }
  }
  throw InternalError(fmt::format("no value overflows {}", format));
}

template <class T>
void append_values(std::vector<std::uint8_t>& out, std::span<const T> values, ValueFormat format) {
  if (values.empty()) return;  // memcpy must not see the null pointer of an empty span
  const std::size_t at = out.size();
  out.resize(at + values.size() * value_bytes(format));
  std::uint8_t* dst = out.data() + at;
  switch (format) {
    case ValueFormat::kFp32:
      if constexpr (std::is_same_v<T, float>) {
        std::memcpy(dst, values.data(), values.size_bytes());
      } else {
        const auto narrow = [](T v) { return static_cast<float>(v); };
        bool finite = true;
        for (std::size_t i = 0; i < values.size(); ++i) {
          const float v = narrow(values[i]);
          finite &= std::isfinite(v);
          std::memcpy(dst + 4 * i, &v, 4);
        }
        if (!finite) reject_overflow(values, "fp32", 3.4028234663852886e38, narrow);
      }
      break;
    case ValueFormat::kFp16: {
      // Through an aligned buffer, so the conversion loop vectorises; the largest magnitude
      // written (sign bit cleared) is at least 0x7C00 only if some value became ±∞ or NaN.
      constexpr std::size_t kChunk = 4096;
      std::uint16_t halves[kChunk];
      std::uint16_t largest = 0;
      for (std::size_t start = 0; start < values.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, values.size() - start);
        const T* in = values.data() + start;
        for (std::size_t i = 0; i < count; ++i) {
          halves[i] = float_to_half(static_cast<float>(in[i]));
          largest = std::max<std::uint16_t>(largest, halves[i] & 0x7FFFU);
        }
        std::memcpy(dst + 2 * start, halves, 2 * count);
      }
      if (largest >= 0x7C00U) {
        reject_overflow(values, "fp16", 65504.0,
                        [](T v) { return half_to_float(float_to_half(static_cast<float>(v))); });
      }
      break;
    }
    case ValueFormat::kFp64:
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto v = static_cast<double>(values[i]);
        std::memcpy(dst + 8 * i, &v, 8);
      }
      break;
  }
}

template <class T>
T stored_value_as(const std::uint8_t* values, std::size_t i, ValueFormat format) {
  if (format == ValueFormat::kFp32) {
    float v;
    std::memcpy(&v, values + 4 * i, 4);
    return static_cast<T>(v);
  }
  if (format == ValueFormat::kFp16) {
    std::uint16_t h;
    std::memcpy(&h, values + 2 * i, 2);
    return static_cast<T>(half_to_float(h));
  }
  double v;
  std::memcpy(&v, values + 8 * i, 8);
  return static_cast<T>(v);
}

template <class T, class Sink>
void read_values(ByteReader& reader, std::size_t count, ValueFormat format, Sink&& sink) {
  const std::size_t width = value_bytes(format);
  require<DecodeError>(count <= reader.remaining() / width,
                       "message truncated: {} values of {} bytes need {} bytes, {} left", count,
                       width, count * width, reader.remaining());
  const std::uint8_t* src = reader.take(count * width, "values").data();
  bool finite = true;
  for (std::size_t i = 0; i < count; ++i) {
    const T value = stored_value_as<T>(src, i, format);
    finite = finite && std::isfinite(value);
    sink(i, value);
  }
  require<DecodeError>(finite, "message corrupt: a value is NaN or infinite");
}

template <class T>
T decoded_element(double value, std::string_view compressor) {
  const auto narrowed = static_cast<T>(value);
  require<DecodeError>(std::isfinite(narrowed),
                       "{}: message corrupt: it decodes to a non-finite element", compressor);
  return narrowed;
}

}  // namespace gradcomp
