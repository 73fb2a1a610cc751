#include "gradcomp/algo/diagnostics_record.hpp"

#include <cmath>

namespace gradcomp {

namespace {

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

void write_diagnostics(const Diagnostics& diagnostics, nlohmann::ordered_json& record) {
  record["error_norm2"] = number(diagnostics.mean_error_norm2);
  record["error_of_mean_norm2"] = number(diagnostics.error_of_mean_norm2);
  record["def_distance"] = number(diagnostics.def_distance);
  record["kappa_star"] = number(diagnostics.kappa_star);
  record["server_error_norm2"] = number(diagnostics.server_error_norm2);
  record["density"] = number(diagnostics.density);
  record["total_error"] = number(diagnostics.total_error);
}

}  // namespace gradcomp
