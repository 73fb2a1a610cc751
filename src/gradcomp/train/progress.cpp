#include "gradcomp/train/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace gradcomp {

void report_progress(const nlohmann::ordered_json& record, std::uint64_t total_steps) {
  const auto& r = record;
  const std::string accuracy =
      r["test_accuracy"].is_null()
          ? ""
          : fmt::format(" test acc {:.2f}%", 100 * r["test_accuracy"].get<double>());
  const std::uint64_t step = r["step"].get<std::uint64_t>();
  const std::string line = fmt::format(
      "step {:>6}/{} epoch {:5.2f} train loss {:.4f}{} bits/worker {:.3g} simulated {:.1f}s", step,
      total_steps, r["epoch"].get<double>(),
      r["train_loss"].is_null() ? NAN : r["train_loss"].get<double>(), accuracy,
      r["bits_up"].get<double>(), r["simulated_seconds"].get<double>());
  if (isatty(fileno(stderr)) != 0) {
    std::fprintf(stderr, "\r%s", line.c_str());
    if (step == total_steps) std::fprintf(stderr, "\n");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace gradcomp
