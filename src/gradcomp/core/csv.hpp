#pragma once
// One field of the CSV files gradcomp writes (metrics.csv, sweep.csv, results.csv), as RFC 4180
// has it: in double quotes, with inner quotes doubled, when it holds a comma, a quote or a line
// break (a sweep's configuration "algorithm.schedule=\"step:lr=0.1,epochs=2\"" does).
#include <string>
#include <string_view>

namespace gradcomp {

inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace gradcomp
