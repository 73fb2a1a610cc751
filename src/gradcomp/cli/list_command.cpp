// `gradcomp list`: every compressor with its parameters, defaults, ranges and properties, every
// algorithm with its parameters and the section of docs/algorithms.md it follows, every schedule.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "gradcomp/algo/catalog.hpp"
#include "gradcomp/cli/commands.hpp"

namespace gradcomp::cli {

namespace {

void print_params(const nlohmann::json& params) {
  for (const auto& param : params) {
    const std::string def = param["default"].get<std::string>();
    fmt::print("{:<13} {:<11} {:<28} default {:<8} {}\n", "", param["name"].get<std::string>(),
               param["range"].get<std::string>(), def.empty() ? "-" : def,
               param["help"].get<std::string>());
  }
}

void print_algorithms(const nlohmann::json& algorithms) {
  fmt::print(
      "Algorithms (spec: name[:key=value,...]; section of docs/algorithms.md; compressors "
      "used)\n\n");
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

}  // namespace

std::function<int()> add_list_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "list", "List every compressor, algorithm and schedule with its parameters");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "print one JSON document");
  return [json]() {
    if (*json) {
      fmt::print("{}\n", catalog_json(2));
      return 0;
    }
    const nlohmann::json catalog = nlohmann::json::parse(catalog_json());
    fmt::print("Compressors (spec: name[:key=value,...]); properties with default parameters\n\n");
    for (const auto& c : catalog["compressors"]) {
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
    print_algorithms(catalog["algorithms"]);
    print_schedules(catalog["schedules"]);
    return 0;
  };
}

}  // namespace gradcomp::cli
