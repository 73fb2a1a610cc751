#pragma once
// The progress line `gradcomp train` prints on standard error after each evaluation
// (run.progress): step, epoch, training loss, test accuracy, bits per worker and the simulated
// clock. On a terminal the line is rewritten in place; otherwise one line per evaluation.
#include <cstdint>
#include <nlohmann/json.hpp>

namespace gradcomp {

void report_progress(const nlohmann::ordered_json& record, std::uint64_t total_steps);

}  // namespace gradcomp
