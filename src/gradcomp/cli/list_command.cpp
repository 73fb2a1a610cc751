// `gradcomp list`: every compressor with its parameters, defaults, ranges and properties.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

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

nlohmann::json describe(const CompressorEntry& entry) {
  const auto instance = make_compressor(entry.name);
  const Properties props = instance->properties();
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : entry.params) {
    params.push_back({{"name", p.name},
                      {"default", p.default_value},
                      {"range", p.range_text()},
                      {"help", p.help}});
  }
  return {{"name", entry.name},
          {"summary", entry.summary},
          {"wire_bits", entry.wire},
          {"parameters", params},
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
  auto* command = app.add_subcommand("list", "List every compressor with its parameters");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "print one JSON document");
  return [json]() {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& entry : compressor_entries()) all.push_back(describe(entry));
    if (*json) {
      fmt::print("{}\n", nlohmann::json{{"compressors", all}}.dump(2));
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
      for (const auto& param : c["parameters"]) {
        const std::string def = param["default"].get<std::string>();
        fmt::print("{:<13} {:<9} {:<28} default {:<8} {}\n", "", param["name"].get<std::string>(),
                   param["range"].get<std::string>(), def.empty() ? "-" : def,
                   param["help"].get<std::string>());
      }
      fmt::print("\n");
    }
    return 0;
  };
}

}  // namespace gradcomp::cli
