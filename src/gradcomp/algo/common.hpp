#pragma once
// Parameters and small pieces several algorithms share.
#include <string>
#include <vector>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/exchange/pattern.hpp"

namespace gradcomp {

inline ParamSpec momentum_param(std::string def) {
  return real_param("momentum", std::move(def), 0, 0.999999, "momentum coefficient mu");
}
inline ParamSpec wd_param() {
  return real_param("wd", "0", 0, 1e6, "weight decay beta_wd");
}
inline ParamSpec pattern_param(std::string def, std::vector<std::string> choices) {
  return choice_param("pattern", std::move(def), std::move(choices),
                      "exchange pattern; auto = allreduce for linear payloads, else allgather");
}

// "auto" → the compressor's default pattern; anything else parsed.
inline Pattern resolve_pattern(const std::string& choice, const Compressor& compressor) {
  return choice == "auto" ? default_pattern(compressor) : parse_pattern(choice);
}

}  // namespace gradcomp
