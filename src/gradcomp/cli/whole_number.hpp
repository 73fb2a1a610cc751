#pragma once
// The check of every whole-number option (--seed, --step, --repeat, --seeds): CLI11 alone reads
// "-1" as 2^64 − 1 and a number too large for 64 bits as something else; both are refused here
// with the range.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

namespace gradcomp::cli {

inline CLI::Validator whole_number(std::uint64_t largest = std::numeric_limits<std::uint64_t>::max()) {
  return CLI::Validator(
      [largest](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || error != std::errc() || stop != end || value > largest)
          return "'" + text + "' is not a whole number from 0 to " + std::to_string(largest);
        return "";
      },
      "WHOLE NUMBER");
}

}  // namespace gradcomp::cli
