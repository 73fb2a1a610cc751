#include "gradcomp/reproduce/arm_results.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>

#include "gradcomp/core/error.hpp"
#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/train/metrics.hpp"

namespace gradcomp {

namespace {

using Records = std::vector<nlohmann::json>;

double field(const nlohmann::json& record, const char* key, double scale = 1) {
  return record.contains(key) && record[key].is_number() ? scale * record[key].get<double>() : NAN;
}

double final_of(const Records& r, const char* key, double scale = 1) {
  return r.empty() ? NAN : field(r.back(), key, scale);
}

double extreme_of(const Records& r, const char* key, bool largest, double scale = 1) {
  double best = NAN;
  for (const auto& record : r) {
    const double v = field(record, key, scale);
    if (std::isfinite(v) && (!std::isfinite(best) || (largest ? v > best : v < best))) best = v;
  }
  return best;
}

double mean_of(const Records& r, const char* key) {
  double sum = 0;
  std::size_t count = 0;
  for (const auto& record : r) {
    const double v = field(record, key);
    if (std::isfinite(v)) {
      sum += v;
      ++count;
    }
  }
  return count == 0 ? NAN : sum / static_cast<double>(count);
}

// The value at the last evaluation at or before `epoch`.
double at_epoch(const Records& r, const char* key, double epoch, double scale = 1) {
  double value = NAN;
  for (const auto& record : r) {
    if (field(record, "epoch") <= epoch + 1e-9) value = field(record, key, scale);
  }
  return value;
}

// `result_key` at the first evaluation whose `key` passes `reached`; infinity if none does.
double first_reaching(const Records& r, const char* key, double scale,
                      const std::function<bool(double)>& reached, const char* result_key) {
  for (const auto& record : r) {
    if (reached(field(record, key, scale))) return field(record, result_key);
  }
  return std::numeric_limits<double>::infinity();
}

// The simulated clock of a record on a g Gbit/s network (default latency), from the run's
// traffic totals (train/metrics.hpp).
double clock_on(const nlohmann::json& record, double gbits) {
  return seconds_on(record, NetworkModel::parse(fmt::format("{}Gbit", gbits)));
}

struct Function {
  std::size_t parameters;  // 0, 1 or 2 numbers after the arm (named by parameter_name)
  const char* meaning;
  std::function<double(const Records&, const std::vector<double>&)> per_run;
};

const std::map<std::string, Function>& functions() {
  static const std::map<std::string, Function> all = {
      {"accuracy",
       {0, "final test accuracy (%)",
        [](const Records& r, const auto&) { return final_of(r, "test_accuracy", 100); }}},
      {"best_accuracy",
       {0, "best test accuracy over the evaluations (%)",
        [](const Records& r, const auto&) { return extreme_of(r, "test_accuracy", true, 100); }}},
      {"accuracy_at",
       {1, "test accuracy (%) at the last evaluation at or before epoch e",
        [](const Records& r, const auto& p) { return at_epoch(r, "test_accuracy", p[0], 100); }}},
      {"test_loss",
       {0, "final test loss",
        [](const Records& r, const auto&) { return final_of(r, "test_loss"); }}},
      {"train_loss",
       {0, "final training loss",
        [](const Records& r, const auto&) { return final_of(r, "train_loss"); }}},
      {"suboptimality",
       {0, "final f − f*",
        [](const Records& r, const auto&) { return final_of(r, "suboptimality"); }}},
      {"min_suboptimality",
       {0, "smallest f − f* over the evaluations",
        [](const Records& r, const auto&) { return extreme_of(r, "suboptimality", false); }}},
      {"suboptimality_at",
       {1, "f − f* at the last evaluation at or before epoch e",
        [](const Records& r, const auto& p) { return at_epoch(r, "suboptimality", p[0]); }}},
      {"late_suboptimality",
       {1, "mean f − f* over the evaluations at or after epoch e (the floor of a noisy run)",
        [](const Records& r, const auto& p) {
          Records late;
          for (const auto& record : r) {
            if (field(record, "epoch") >= p[0] - 1e-9) late.push_back(record);
          }
          return mean_of(late, "suboptimality");
        }}},
      {"grad_norm2",
       {0, "final ‖∇f‖²", [](const Records& r, const auto&) { return final_of(r, "grad_norm2"); }}},
      {"error",
       {0, "final (1/n)Σ‖e_i‖²",
        [](const Records& r, const auto&) { return final_of(r, "error_norm2"); }}},
      {"max_error",
       {0, "largest (1/n)Σ‖e_i‖² over the evaluations",
        [](const Records& r, const auto&) { return extreme_of(r, "error_norm2", true); }}},
      {"total_error",
       {0, "final Σ_t (1/n)Σ‖e_i‖²",
        [](const Records& r, const auto&) { return final_of(r, "total_error"); }}},
      {"density",
       {0, "mean density over the evaluations (fraction of d)",
        [](const Records& r, const auto&) { return mean_of(r, "density"); }}},
      {"grad_phi",
       {0, "mean φ(g) over the evaluations (run.gradient_geometry; [BlockEF] Fig. 1b)",
        [](const Records& r, const auto&) { return mean_of(r, "grad_phi"); }}},
      {"grad_sign_delta",
       {0, "mean ‖g‖₁²/(d‖g‖²) over the evaluations (run.gradient_geometry)",
        [](const Records& r, const auto&) { return mean_of(r, "grad_sign_delta"); }}},
      {"steps",
       {0, "steps taken (the last evaluation's step)",
        [](const Records& r, const auto&) { return final_of(r, "step"); }}},
      {"sends",
       {0, "steps × mean density: how often each coordinate was sent on average (RBGS: steps / r)",
        [](const Records& r, const auto&) { return final_of(r, "step") * mean_of(r, "density"); }}},
      {"mb",
       {0, "MB sent per worker (bits_up / 8e6)",
        [](const Records& r, const auto&) { return final_of(r, "bits_up", 1 / 8e6); }}},
      {"message_mb",
       {0, "MB of encoded messages per worker (message_bits / 8e6)",
        [](const Records& r, const auto&) { return final_of(r, "message_bits", 1 / 8e6); }}},
      {"seconds",
       {0, "final simulated wall-clock (s)",
        [](const Records& r, const auto&) { return final_of(r, "simulated_seconds"); }}},
      {"network_seconds",
       {0, "final modelled network time (s) of the α–β model",
        [](const Records& r, const auto&) { return final_of(r, "network_seconds"); }}},
      {"real_seconds",
       {0, "final step_seconds: the real time spent in steps (s)",
        [](const Records& r, const auto&) { return final_of(r, "step_seconds"); }}},
      {"time_to",
       {1, "simulated seconds at the first evaluation with test accuracy >= a (%); inf if never",
        [](const Records& r, const auto& p) {
          return first_reaching(
              r, "test_accuracy", 100, [&](double v) { return v >= p[0]; }, "simulated_seconds");
        }}},
      {"time_to_on",
       {2,
        "as time_to, with the clock of a g Gbit/s network (default latency) computed from the "
        "run's traffic: one run answers for every network",
        [](const Records& r, const auto& p) {
          for (const auto& record : r) {
            if (field(record, "test_accuracy", 100) >= p[0]) return clock_on(record, p[1]);
          }
          return std::numeric_limits<double>::infinity();
        }}},
      {"seconds_on",
       {1, "final simulated wall-clock (s) on a g Gbit/s network, from the run's traffic",
        [](const Records& r, const auto& p) {
          return r.empty() ? NAN : clock_on(r.back(), p[0]);
        }}},
      {"epochs_to",
       {1, "epoch of the first evaluation with f − f* <= s; inf if never",
        [](const Records& r, const auto& p) {
          return first_reaching(
              r, "suboptimality", 1, [&](double v) { return v <= p[0]; }, "epoch");
        }}},
      {"real_time_to",
       {1, "step_seconds (real time in steps) at the first evaluation with test accuracy >= a (%)",
        [](const Records& r, const auto& p) {
          return first_reaching(
              r, "test_accuracy", 100, [&](double v) { return v >= p[0]; }, "step_seconds");
        }}},
      {"kappa_star",
       {0, "final κ* of DEF's diagnostics",
        [](const Records& r, const auto&) { return final_of(r, "kappa_star"); }}},
  };
  return all;
}

// The name the meaning gives the numeric argument.
std::string parameter_name(const std::string& function) {
  if (function == "time_to" || function == "real_time_to") return ", a";
  if (function == "time_to_on") return ", a, g";
  if (function == "seconds_on") return ", g";
  if (function == "epochs_to") return ", s";
  return ", e";
}

struct Resolved {
  const Function* function = nullptr;
  bool spread = false;  // std_NAME
  bool diverged = false;
  bool collapsed = false;
};

Resolved resolve(const ClaimCall& call) {
  Resolved r;
  std::string name = call.function;
  if (name.rfind("std_", 0) == 0) {
    r.spread = true;
    name = name.substr(4);
  }
  if (name == "diverged" || name == "collapsed") {
    (name == "diverged" ? r.diverged : r.collapsed) = true;
    require(call.parameters.empty(), "{}: {} takes the arm only", call.text, name);
    return r;
  }
  const auto found = functions().find(name);
  if (found == functions().end()) {
    throw InvalidInput(
        fmt::format("{}: unknown function '{}'; functions: {} (std_NAME for the "
                    "spread over seeds)",
                    call.text, call.function, fmt::join(claim_functions(), "; ")));
  }
  r.function = &found->second;
  require(call.parameters.size() == r.function->parameters, "{}: {} takes the arm and {} number(s)",
          call.text, name, r.function->parameters);
  if (name == "time_to_on" || name == "seconds_on") {
    const double gbits = call.parameters.back();
    require(std::isfinite(gbits) && gbits > 0, "{}: the network's Gbit/s must be > 0", call.text);
  }
  return r;
}

}  // namespace

SeedRun read_seed_run(const std::string& directory) {
  SeedRun run{directory, {}, std::filesystem::exists(directory + "/diverged.txt")};
  std::ifstream in(directory + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) run.records.push_back(nlohmann::json::parse(line));
  }
  std::ifstream summary_file(directory + "/summary.json");
  if (summary_file) {
    const auto summary = nlohmann::json::parse(summary_file, nullptr, false);
    run.collapsed = !summary.is_discarded() && summary.contains("collapsed");
  }
  return run;
}

void validate_call(const ClaimCall& call) {
  (void)resolve(call);
}

void validate_functions(const Experiment& experiment) {
  for (const Check& check : experiment.checks) {
    for (const ClaimCall& call : check.test.calls()) validate_call(call);
  }
  for (const TableSpec& table : experiment.tables) {
    try {
      validate_call({table.function, table.cells.front().front(), {}, table.function});
      if (!table.plot.empty()) validate_call({table.plot_x, "", {}, table.plot_x});
    } catch (const InvalidInput& e) {
      throw InvalidInput(
          fmt::format("{}: [[table]] '{}': {}", experiment.origin, table.title, e.what()));
    }
  }
}

double call_value(const ArmResults& arm, const ClaimCall& call) {
  const Resolved r = resolve(call);
  std::vector<double> values;
  for (const SeedRun& seed : arm.seeds) {
    if (r.diverged) {
      values.push_back(seed.diverged ? 1 : 0);
    } else if (r.collapsed) {
      values.push_back(seed.collapsed ? 1 : 0);
    } else if (!seed.diverged) {
      values.push_back(r.function->per_run(seed.records, call.parameters));
    }
  }
  if (values.empty()) return NAN;
  double mean = 0;
  for (const double v : values) mean += v / static_cast<double>(values.size());
  if (!r.spread) return mean;
  if (values.size() < 2) return 0;
  double var = 0;
  for (const double v : values) var += (v - mean) * (v - mean);
  return std::sqrt(var / static_cast<double>(values.size() - 1));
}

std::vector<std::string> claim_functions() {
  std::vector<std::string> out;
  for (const auto& [name, f] : functions()) {
    out.push_back(fmt::format("{}(arm{}): {}", name, f.parameters == 1 ? parameter_name(name) : "",
                              f.meaning));
  }
  out.emplace_back("diverged(arm): the fraction of seeds that diverged");
  out.emplace_back(
      "collapsed(arm): the fraction of seeds that collapsed (test accuracy at chance for two "
      "evaluations in a row, without a NaN)");
  return out;
}

std::size_t diverged_seeds(const ArmResults& arm) {
  return static_cast<std::size_t>(std::count_if(arm.seeds.begin(), arm.seeds.end(),
                                                [](const SeedRun& s) { return s.diverged; }));
}

std::size_t collapsed_seeds(const ArmResults& arm) {
  return static_cast<std::size_t>(std::count_if(arm.seeds.begin(), arm.seeds.end(),
                                                [](const SeedRun& s) { return s.collapsed; }));
}

}  // namespace gradcomp
