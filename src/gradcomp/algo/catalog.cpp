#include "gradcomp/algo/catalog.hpp"

#include <nlohmann/json.hpp>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/pattern.hpp"

namespace gradcomp {

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

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
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

nlohmann::json describe_properties(const Compressor& compressor) {
  const Properties props = compressor.properties();
  return {{"unbiased", props.unbiased},
          {"linear_under_shared_seed", props.linear},
          {"exchange", std::string(pattern_name(default_pattern(compressor)))},
          {"randomized", props.randomized},
          {"shared_randomness", props.shared_randomness},
          {"stateful", props.stateful},
          {"error_bound", bound_name(props.bound)}};
}

nlohmann::json describe_compressors() {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& entry : compressor_entries()) {
    const auto instance = make_compressor(entry.name);
    all.push_back({{"name", entry.name},
                   {"summary", entry.summary},
                   {"wire_bits", entry.wire},
                   {"parameters", describe_params(entry.params)},
                   {"default_spec", instance->spec()},
                   {"properties", describe_properties(*instance)}});
  }
  return all;
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

}  // namespace

std::string catalog_json(int indent) {
  return nlohmann::json{{"compressors", describe_compressors()},
                        {"algorithms", describe_algorithms()},
                        {"schedules", describe_schedules()}}
      .dump(indent);
}

std::string compressor_properties_json(const Compressor& compressor, const Layout* layout,
                                       int indent) {
  nlohmann::json properties = describe_properties(compressor);
  const Constants constants = layout != nullptr ? compressor.constants(*layout) : Constants{};
  properties["delta"] = optional_json(constants.delta);
  properties["omega"] = optional_json(constants.omega);
  properties["upsilon2"] = optional_json(constants.upsilon2);
  properties["note"] = layout != nullptr ? constants.note
                                         : std::string(
                                               "the constants depend on the layout; "
                                               "give the compressor one");
  return properties.dump(indent);
}

}  // namespace gradcomp
