// `gradcomp list`: every compressor with its parameters, defaults, ranges and properties, every
// algorithm with its parameters and the section of ALGORITHMS.md it follows, every schedule.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/cli/commands.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/pattern.hpp"

namespace gradcomp::cli {

namespace {

std::string bound_name(ErrorBound bound) {
  switch (bound) {
    case ErrorBound::kRelative:
      return "relative";
    case ErrorBound::kAbsolute:
      return "absolute";
    case ErrorBound::kNone:
      return "none";
  }
  return "";
}

nlohmann::json describe_params(const std::vector<ParamSpec>& specs) {
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : specs) {
    params.push_back({{"name", p.name},
                      {"default", p.default_value},
                      {"range", p.range_text()},
                      {"help", p.help}});
  }
  return params;
}

void print_params(const nlohmann::json& params) {
  for (const auto& param : params) {
    const std::string def = param["default"].get<std::string>();
    fmt::print("{:<13} {:<9} {:<28} default {:<8} {}\n", "", param["name"].get<std::string>(),
               param["range"].get<std::string>(), def.empty() ? "-" : def,
               param["help"].get<std::string>());
  }
}

nlohmann::json describe_algorithms() {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& entry : algorithm_entries()) {
    all.push_back({{"name", entry.name},
                   {"summary", entry.summary},
                   {"section", entry.section},
                   {"uses", entry.uses},
                   {"parameters", describe_params(entry.params)}});
  }
  return all;
}

nlohmann::json describe_schedules() {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& entry : schedule_entries()) {
    all.push_back({{"name", entry.name},
                   {"summary", entry.summary},
                   {"parameters", describe_params(entry.params)}});
  }
  return all;
}

void print_algorithms(const nlohmann::json& algorithms) {
  fmt::print(
      "Algorithms (spec: name[:key=value,...]; ALGORITHMS.md section; compressors used)\n\n");
  for (const auto& a : algorithms) {
    fmt::print("{:<18} {}\n", a["name"].get<std::string>(), a["summary"].get<std::string>());
    fmt::print("{:<18} [{}; uses {}]\n", "", a["section"].get<std::string>(),
               a["uses"].get<std::string>());
    print_params(a["parameters"]);
    fmt::print("\n");
  }
}

void print_schedules(const nlohmann::json& schedules) {
  fmt::print("Step-size schedules (spec: name[:key=value,...])\n\n");
  for (const auto& s : schedules) {
    fmt::print("{:<18} {}\n", s["name"].get<std::string>(), s["summary"].get<std::string>());
    print_params(s["parameters"]);
    fmt::print("\n");
  }
}

nlohmann::json describe(const CompressorEntry& entry) {
  const auto instance = make_compressor(entry.name);
  const Properties props = instance->properties();
  return {{"name", entry.name},
          {"summary", entry.summary},
          {"wire_bits", entry.wire},
          {"parameters", describe_params(entry.params)},
          {"default_spec", instance->spec()},
          {"properties",
           {{"unbiased", props.unbiased},
            {"linear_under_shared_seed", props.linear},
            {"exchange", std::string(pattern_name(default_pattern(*instance)))},
            {"randomized", props.randomized},
            {"shared_randomness", props.shared_randomness},
            {"stateful", props.stateful},
            {"error_bound", bound_name(props.bound)}}}};
}

}  // namespace

std::function<int()> add_list_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "list", "List every compressor, algorithm and schedule with its parameters");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "print one JSON document");
  return [json]() {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& entry : compressor_entries()) all.push_back(describe(entry));
    if (*json) {
      fmt::print("{}\n", nlohmann::json{{"compressors", all},
                                        {"algorithms", describe_algorithms()},
                                        {"schedules", describe_schedules()}}
                             .dump(2));
      return 0;
    }
    fmt::print("Compressors (spec: name[:key=value,...]); properties with default parameters\n\n");
    for (const auto& c : all) {
      const auto& p = c["properties"];
      std::vector<std::string> tags;
      tags.push_back(p["unbiased"].get<bool>() ? "unbiased" : "biased");
      if (p["linear_under_shared_seed"].get<bool>()) tags.push_back("linear");
      tags.push_back("exchanged by " + p["exchange"].get<std::string>());
      if (p["shared_randomness"].get<bool>())
        tags.push_back("shared seed");
      else if (p["randomized"].get<bool>())
        tags.push_back("private randomness");
      if (p["stateful"].get<bool>()) tags.push_back("stateful");
      tags.push_back(p["error_bound"].get<std::string>() + " error bound");
      fmt::print("{:<11} {}\n", c["name"].get<std::string>(), c["summary"].get<std::string>());
      fmt::print("{:<11} [{}]\n", "", fmt::join(tags, ", "));
      fmt::print("{:<11} wire: {}\n", "", c["wire_bits"].get<std::string>());
      print_params(c["parameters"]);
      fmt::print("\n");
    }
    print_algorithms(describe_algorithms());
    print_schedules(describe_schedules());
    return 0;
  };
}

}  // namespace gradcomp::cli
