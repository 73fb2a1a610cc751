#pragma once
// The DIANA shifts (docs/algorithms.md §3.13–3.15) of diana, ef-bc and ec-sgd-diana: worker i sends
// Δ_i = Q_ω(u_i) and moves its shift h_i ← h_i + αΔ_i. The step size α is given, or β/(1 + ω)
// from the quantizer's declared ω (α = 1/(1+ω) for DIANA, β_bc/(1+ω) for ef-bc).
#include <string>

#include "gradcomp/algo/worker_compression.hpp"
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
          "alpha, or use a quantizer that declares omega (qsgd, terngrad, randk:unbiased=true)",
          algorithm, quantizer.spec());
  return beta / (1 + *constants.omega);
}

// Local worker j sends Q(u) through `quantized` and moves its shift: h ← h + α·Q(u).
template <class T>
void send_shift_update(WorkerCompression<T>& quantized, std::size_t j, std::span<const T> u,
                       std::span<T> shift, T alpha, std::uint64_t step) {
  const std::span<const T> sent = quantized.send_and_decode(j, u, step);
  for (std::size_t i = 0; i < shift.size(); ++i) shift[i] += alpha * sent[i];
}

}  // namespace gradcomp
