#pragma once
// The step size α of the DIANA shifts (ALGORITHMS.md §3.13–3.15): given, or β/(1 + ω) from the
// quantizer's declared ω (α = 1/(1+ω) for DIANA, β_bc/(1+ω) for ef-bc).
#include <string>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

inline ParamSpec alpha_param() {
  return real_param("alpha", "", 0, 1,
                    "shift step alpha (default: beta/(1 + omega) of the quantizer)", true);
}

inline double shift_step(const Params& p, const Compressor& quantizer, const Layout& layout,
                         double beta, const std::string& algorithm) {
  if (p.given("alpha")) return p.real("alpha");
  const Constants constants = quantizer.constants(layout);
  require(constants.omega.has_value(),
          "{}: the quantizer '{}' declares no omega, so alpha = beta/(1 + omega) is unknown; give "
          "alpha, or use an unbiased quantizer (qsgd, terngrad, randk:unbiased=true, round)",
          algorithm, quantizer.spec());
  return beta / (1 + *constants.omega);
}

}  // namespace gradcomp
