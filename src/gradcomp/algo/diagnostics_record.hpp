#pragma once
// An algorithm's diagnostics as the fields of a metrics record (docs/outputs.md): error_norm2,
// error_of_mean_norm2, def_distance, kappa_star, server_error_norm2, density, total_error; NaN
// (a quantity the algorithm does not have) is null. The trainer's records and the Python
// optimizer's stats() both write them here, so their names and units cannot drift apart.
#include <nlohmann/json.hpp>

#include "gradcomp/algo/algorithm.hpp"

namespace gradcomp {

void write_diagnostics(const Diagnostics& diagnostics, nlohmann::ordered_json& record);

}  // namespace gradcomp
