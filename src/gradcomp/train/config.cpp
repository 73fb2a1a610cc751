#include "gradcomp/train/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/train/toml_document.hpp"

namespace gradcomp {

const char* default_config_toml() {
  return R"(# gradcomp's default run: Fashion-MNIST, an MLP, 8 workers, DEF with RBGS at ratio 64.
[data]
source = "fashion-mnist"
partition = "iid"

[model]
name = "mlp:hidden=128"

[workers]
n = 8
backend = "local"

[algorithm]
name = "def"
kappa = 0.3
momentum = 0.9
schedule = "step:lr=0.03,epochs=6"

[compressor]
name = "rbgs"
ratio = 64

[network]
name = "1Gbit"

[run]
epochs = 8
batch = 32
seed = 1
)";
}

namespace {

using Keys = std::vector<std::string>;

const std::map<std::string, Keys>& known_keys() {
  static const std::map<std::string, Keys> keys = {
      {"data",
       {"source", "train", "train_labels", "test", "test_labels", "generator", "features", "labels",
        "test_fraction", "partition", "train_samples", "test_samples", "validation_samples"}},
      {"model", {"name", "init"}},
      {"workers", {"n", "backend", "allreduce", "threads"}},
      {"algorithm", {}},   // name, spec, schedule, lr, lr_unit and the algorithm's own parameters
      {"compressor", {}},  // name, spec, quantizer, and the compressor's own parameters
      {"network", {"name"}},
      {"run",
       {"epochs", "steps", "batch", "eval_every", "seed", "precision", "save_model",
        "checkpoint_every", "gradient_geometry", "train_eval_samples", "out"}},
  };
  return keys;
}

std::string text_of(const toml::node& node, const std::string& where) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) return fmt::format("{}", f->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  throw InvalidInput(fmt::format("{}: expected a string, number or boolean", where));
}

void check_sections(const toml::table& root, const std::string& origin) {
  for (const auto& [key, node] : root) {
    const std::string section(key.str());
    Keys sections;
    for (const auto& [name, _] : known_keys()) sections.push_back(name);
    require(known_keys().count(section) != 0 && node.is_table(),
            "{}: unknown section [{}]; sections: {}", origin, section, fmt::join(sections, ", "));
    const Keys& valid = known_keys().at(section);
    for (const auto& [inner, value] : *node.as_table()) {
      const std::string name(inner.str());
      // A dotted key (algoritm.name = ...) makes a table inside the section: a typo, since no
      // key of any section holds a table.
      if (const auto* nested = value.as_table(); nested != nullptr) {
        const std::string first = nested->empty() ? "" : std::string(nested->begin()->first.str());
        throw InvalidInput(fmt::format(
            "{}: unknown key {}.{}{}: keys of [{}] hold values, not tables (a dotted key?)", origin,
            section, name, first.empty() ? "" : "." + first, section));
      }
      if (valid.empty()) continue;
      require(std::find(valid.begin(), valid.end(), name) != valid.end(),
              "{}: unknown key {}.{}; keys of [{}]: {}", origin, section, name, section,
              fmt::join(valid, ", "));
    }
  }
}

// "name:key=value,..." from a section's name (or spec) and its other keys.
std::string spec_of(const toml::table* section, const std::string& what, const Keys& reserved,
                    const std::string& fallback) {
  if (section == nullptr) return fallback;
  if (const auto* spec = section->get("spec")) {
    std::string text = text_of(*spec, what + ".spec");
    for (const auto& [key, node] : *section) {
      const std::string k(key.str());
      require(std::find(reserved.begin(), reserved.end(), k) != reserved.end(),
              "{0}.spec = '{1}' and {0}.{2} are both given: the spec already names the {0} and "
              "its parameters; give either spec or name with parameters",
              what, text, k);
    }
    return text;
  }
  std::string name = fallback.substr(0, fallback.find(':'));
  if (const auto* n = section->get("name")) name = text_of(*n, what + ".name");
  std::vector<std::string> params;
  for (const auto& [key, node] : *section) {
    const std::string k(key.str());
    if (k == "name" || std::find(reserved.begin(), reserved.end(), k) != reserved.end()) continue;
    const std::string value = text_of(node, fmt::format("{}.{}", what, k));
    require(value.find_first_of(",=") == std::string::npos,
            "{}.{} = '{}' may not contain ',' or '='", what, k, value);
    params.push_back(fmt::format("{}={}", k, value));
  }
  return params.empty() ? name : fmt::format("{}:{}", name, fmt::join(params, ","));
}

// Sets root[section][key] from "section.key=value".
void apply_override(toml::table& root, const std::string& assignment) {
  const std::size_t dot = assignment.find('.');
  const std::size_t eq = assignment.find('=');
  require(dot != std::string::npos && eq != std::string::npos && dot < eq,
          "--set '{}': expected section.key=value, e.g. --set algorithm.kappa=0.5", assignment);
  const std::string section = assignment.substr(0, dot);
  const std::string key = assignment.substr(dot + 1, eq - dot - 1);
  const std::string value = assignment.substr(eq + 1);
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table* table = root[section].as_table();
  require(table != nullptr, "--set '{}': [{}] is not a section", assignment, section);
  try {
    const toml::table parsed = toml::parse("v = " + value);
    table->insert_or_assign(key, *parsed.get("v"));
  } catch (const toml::parse_error&) {
    table->insert_or_assign(key, value);  // a bare word: a string
  }
}

// The parameter names of the algorithm or compressor `name`; none if the name is unknown (the
// spec's validation reports that later, with the list of valid names).
std::vector<std::string> parameters_of(const std::string& section, const std::string& name) {
  std::vector<std::string> names;
  try {
    const auto& params =
        section == "algorithm" ? find_algorithm(name).params : find_compressor(name).params;
    for (const auto& p : params) names.push_back(p.name);
  } catch (const InvalidInput&) {
  }
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A section given as spec = "name:key=value,..." (as a run's config.toml writes it) becomes name
// and keys, so that renaming it follows the rule below and its keys can be overridden.
void expand_spec(toml::table& section) {
  const auto* spec = section.get_as<std::string>("spec");
  if (spec == nullptr) return;
  const std::string text = spec->get();
  const std::size_t colon = text.find(':');
  section.insert_or_assign("name", text.substr(0, colon));
  if (colon != std::string::npos) {
    std::stringstream params(text.substr(colon + 1));
    std::string param;
    while (std::getline(params, param, ',')) {
      const std::size_t eq = param.find('=');
      if (eq != std::string::npos)
        section.insert_or_assign(param.substr(0, eq), param.substr(eq + 1));
    }
  }
  section.erase("spec");
}

// "--set algorithm.name=sgd" on a document whose [algorithm] is def: def's parameters that sgd
// does not take (kappa, momentum) are dropped instead of leaking into sgd, which would refuse
// them. Keys both take (wd), keys of the section itself (schedule, quantizer) and keys neither
// takes (a typo, reported as before) stay; the section's other --set keys apply afterwards.
void restart_renamed_section(toml::table& root, const std::string& assignment) {
  static const std::map<std::string, std::string> fallback = {{"algorithm", "sgd"},
                                                              {"compressor", "identity"}};
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) return;
  const std::string target = assignment.substr(0, eq);
  const std::size_t dot = target.find('.');
  if (dot == std::string::npos) return;
  const std::string section_name = target.substr(0, dot);
  const std::string key = target.substr(dot + 1);
  toml::table* section = root[section_name].as_table();
  if (!fallback.contains(section_name) || section == nullptr) return;
  // Setting a spec replaces the section's name and parameters; setting the name or a parameter of
  // a section given as a spec turns the spec into name and keys first.
  static const std::set<std::string> section_keys = {"spec", "schedule", "lr", "lr_unit",
                                                     "quantizer"};
  if (key == "spec") {  // a whole new choice: the old name and parameters go
    std::vector<std::string> replaced;
    for (const auto& [existing, node] : *section)
      if (!section_keys.contains(std::string(existing.str())))
        replaced.emplace_back(existing.str());
    for (const auto& k : replaced) section->erase(k);
    return;
  }
  expand_spec(*section);
  if (key != "name") return;
  std::string value = assignment.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  const auto* current = section->get_as<std::string>("name");
  const std::string old_name = current != nullptr ? current->get() : fallback.at(section_name);
  const std::vector<std::string> old_params = parameters_of(section_name, old_name);
  const std::vector<std::string> new_params = parameters_of(section_name, value);
  std::vector<std::string> dropped;
  for (const auto& [existing, node] : *section) {
    const std::string k(existing.str());
    if (contains(old_params, k) && !contains(new_params, k)) dropped.push_back(k);
  }
  for (const auto& k : dropped) section->erase(k);
}

// A count given as an integer, or as a float with a whole value (1e3). Checked here, not by
// toml++'s value<int64_t>(), which casts a float to an integer before it checks the range
// (undefined behaviour for 1e300; found by fuzz_config).
std::optional<std::int64_t> whole_number(const toml::node& node) {
  if (const auto* floating = node.as_floating_point()) {
    const double v = floating->get();
    constexpr double kBeyondInt64 = 0x1p63;
    const bool whole = std::isfinite(v) && v == std::floor(v) && std::fabs(v) < kBeyondInt64;
    if (!whole) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  return node.value<std::int64_t>();
}

template <class V>
V get(const toml::table& root, const char* section, const char* key, V fallback) {
  const auto node = root[section][key];
  if (!node) return fallback;
  if constexpr (std::is_same_v<V, std::string>) {
    return text_of(*node.node(), fmt::format("{}.{}", section, key));
  } else if constexpr (std::is_same_v<V, bool>) {
    const auto v = node.value<bool>();
    require(v.has_value(), "{}.{} must be true or false", section, key);
    return *v;
  } else if constexpr (std::is_integral_v<V>) {
    const auto v = whole_number(*node.node());
    require(v.has_value() && *v >= 0, "{}.{} must be a whole number >= 0", section, key);
    return static_cast<V>(*v);
  } else {
    const auto v = node.value<double>();
    require(v.has_value(), "{}.{} must be a number", section, key);
    return *v;
  }
}

// The "section.key" the user gave: the file's keys (not the embedded default's) and the --set
// keys that are still in the document.
std::set<std::string> given_keys(const toml::table& root, bool default_text,
                                 const std::vector<std::string>& overrides) {
  std::set<std::string> given;
  if (!default_text) {
    for (const auto& [section, node] : root) {
      if (const auto* table = node.as_table())
        for (const auto& [key, value] : *table)
          given.insert(fmt::format("{}.{}", section.str(), key.str()));
    }
  }
  for (const auto& assignment : overrides) {
    const std::string key = assignment.substr(0, assignment.find('='));
    const std::size_t dot = key.find('.');
    if (dot != std::string::npos && root[key.substr(0, dot)][key.substr(dot + 1)])
      given.insert(key);
  }
  return given;
}

}  // namespace

TrainConfig parse_config(const std::string& text, const std::string& origin,
                         const std::vector<std::string>& overrides) {
  toml::table root = parse_toml_document(text, origin);
  for (const auto& assignment : overrides) restart_renamed_section(root, assignment);
  for (const auto& assignment : overrides) apply_override(root, assignment);
  check_sections(root, origin);

  TrainConfig c;
  c.given = given_keys(root, text == default_config_toml(), overrides);
  c.data_source = get(root, "data", "source", c.data_source);
  c.train_path = get(root, "data", "train", c.train_path);
  c.train_labels = get(root, "data", "train_labels", c.train_labels);
  c.test_path = get(root, "data", "test", c.test_path);
  c.test_labels = get(root, "data", "test_labels", c.test_labels);
  c.generator = get(root, "data", "generator", c.generator);
  c.features = get(root, "data", "features", c.features);
  c.labels = get(root, "data", "labels", c.labels);
  c.test_fraction = get(root, "data", "test_fraction", c.test_fraction);
  c.partition = get(root, "data", "partition", c.partition);
  c.train_samples = get(root, "data", "train_samples", c.train_samples);
  c.test_samples = get(root, "data", "test_samples", c.test_samples);
  c.validation_samples = get(root, "data", "validation_samples", c.validation_samples);
  c.model = get(root, "model", "name", c.model);
  c.init = get(root, "model", "init", c.init);
  c.workers = get(root, "workers", "n", c.workers);
  c.backend = get(root, "workers", "backend", c.backend);
  c.allreduce = get(root, "workers", "allreduce", c.allreduce);
  c.threads = get(root, "workers", "threads", c.threads);
  const Keys algorithm_reserved{"spec", "schedule", "lr", "lr_unit"};
  c.choice.algorithm =
      spec_of(root["algorithm"].as_table(), "algorithm", algorithm_reserved, "sgd");
  const Keys compressor_reserved{"spec", "quantizer"};
  c.choice.compressor =
      spec_of(root["compressor"].as_table(), "compressor", compressor_reserved, "identity");
  c.choice.quantizer = get(root, "compressor", "quantizer", c.choice.quantizer);
  if (root["algorithm"]["schedule"]) {
    c.schedule = get(root, "algorithm", "schedule", c.schedule);
    c.lr_overridden = static_cast<bool>(root["algorithm"]["lr"]);
  } else if (root["algorithm"]["lr"]) {
    c.schedule = fmt::format("constant:lr={}", get(root, "algorithm", "lr", 0.1));
  }
  c.lr_unit = get(root, "algorithm", "lr_unit", c.lr_unit);
  c.network = get(root, "network", "name", c.network);
  c.epochs = get(root, "run", "epochs", c.epochs);
  c.steps = get(root, "run", "steps", c.steps);
  c.batch = get(root, "run", "batch", c.batch);
  c.eval_every = get(root, "run", "eval_every", c.eval_every);
  c.seed = get(root, "run", "seed", c.seed);
  c.precision = get(root, "run", "precision", c.precision);
  c.save_model = get(root, "run", "save_model", c.save_model);
  c.checkpoint_every = get(root, "run", "checkpoint_every", c.checkpoint_every);
  c.gradient_geometry = get(root, "run", "gradient_geometry", c.gradient_geometry);
  c.train_eval_samples = get(root, "run", "train_eval_samples", c.train_eval_samples);
  c.out = get(root, "run", "out", c.out);

  require(c.precision == "float" || c.precision == "double",
          "run.precision = '{}'; choose float or double", c.precision);
  require(c.backend == "local" || c.backend == "mpi", "workers.backend = '{}'; choose local or mpi",
          c.backend);
  require(c.labels == "classification" || c.labels == "regression",
          "data.labels = '{}'; choose classification or regression", c.labels);
  require(c.lr_unit == "1" || c.lr_unit == "1/L",
          "algorithm.lr_unit = '{}'; choose \"1\" (rates as given) or \"1/L\" (multiples of 1/L, "
          "convex models)",
          c.lr_unit);
  require(c.init == "default" || c.init.rfind("optimum:offset=", 0) == 0,
          "model.init = '{}'; choose \"default\" or \"optimum:offset=c\" (x* + c, convex models)",
          c.init);
  (void)init_offset(c.init);
  require(c.test_fraction >= 0 && c.test_fraction < 1, "data.test_fraction = {} must be in [0, 1)",
          c.test_fraction);
  return c;
}

std::vector<std::string> unused_settings(const TrainConfig& c) {
  std::vector<std::string> notes;
  const CompressorsInUse in_use = compressors_in_use(c.choice);
  const std::string algorithm = c.choice.algorithm.substr(0, c.choice.algorithm.find(':'));
  const bool compressor_given = std::any_of(c.given.begin(), c.given.end(), [](const auto& key) {
    return key.starts_with("compressor.") && key != "compressor.quantizer";
  });
  if (compressor_given && !in_use.takes_compressor) {
    notes.push_back(fmt::format(
        "[compressor] '{}' is not used: {} compresses with {}; remove the compressor's name and "
        "parameters",
        c.choice.compressor, algorithm,
        in_use.quantizer.empty() ? fmt::format("its own {}", in_use.compressor)
                                 : "its quantizer (compressor.quantizer)"));
  }
  if (c.given.contains("compressor.quantizer") && in_use.quantizer.empty()) {
    notes.push_back(fmt::format(
        "compressor.quantizer = '{}' is not used: {} takes no quantizer (dqsgd, dqsgd-sync, "
        "diana, ef-bc and ec-sgd-diana do); remove it",
        c.choice.quantizer, algorithm));
  }
  if (c.given.contains("algorithm.lr") && c.lr_overridden) {
    notes.push_back(fmt::format(
        "algorithm.lr is not used: algorithm.schedule = '{}' sets the rates; put the rate in the "
        "schedule (--set algorithm.schedule=\"constant:lr=...\" or the schedule's lr)",
        c.schedule));
  }
  if (c.given.contains("workers.allreduce") && c.backend == "local") {
    notes.push_back(fmt::format(
        "workers.allreduce = '{}' is not used: it chooses the all-reduce of workers.backend = "
        "\"mpi\"; the local backend sums in memory",
        c.allreduce));
  }
  return notes;
}

double init_offset(const std::string& init) {
  if (init == "default") return 0;
  const std::string text = init.substr(init.find('=') + 1);
  try {
    std::size_t used = 0;
    const double offset = std::stod(text, &used);
    if (used == text.size() && std::isfinite(offset)) return offset;
  } catch (const std::exception&) {
  }
  throw InvalidInput(fmt::format("model.init = '{}': the offset must be a number", init));
}

void validate_specs(const TrainConfig& config) {
  validate_algorithm_spec(config.choice.algorithm);
  (void)make_compressor(config.choice.compressor);
  (void)make_compressor(config.choice.quantizer);
  (void)make_schedule(config.schedule, ScheduleContext{});
}

namespace {

toml::table as_table(const TrainConfig& c) {
  return toml::table{
      {"data",
       toml::table{{"source", c.data_source},
                   {"train", c.train_path},
                   {"train_labels", c.train_labels},
                   {"test", c.test_path},
                   {"test_labels", c.test_labels},
                   {"generator", c.generator},
                   {"features", static_cast<std::int64_t>(c.features)},
                   {"labels", c.labels},
                   {"test_fraction", c.test_fraction},
                   {"partition", c.partition},
                   {"train_samples", static_cast<std::int64_t>(c.train_samples)},
                   {"test_samples", static_cast<std::int64_t>(c.test_samples)},
                   {"validation_samples", static_cast<std::int64_t>(c.validation_samples)}}},
      {"model", toml::table{{"name", c.model}, {"init", c.init}}},
      {"workers", toml::table{{"n", static_cast<std::int64_t>(c.workers)},
                              {"backend", c.backend},
                              {"allreduce", c.allreduce},
                              {"threads", static_cast<std::int64_t>(c.threads)}}},
      {"algorithm",
       toml::table{{"spec", c.choice.algorithm}, {"schedule", c.schedule}, {"lr_unit", c.lr_unit}}},
      {"compressor", toml::table{{"spec", c.choice.compressor}, {"quantizer", c.choice.quantizer}}},
      {"network", toml::table{{"name", c.network}}},
      {"run", toml::table{{"epochs", static_cast<std::int64_t>(c.epochs)},
                          {"steps", static_cast<std::int64_t>(c.steps)},
                          {"batch", c.batch},
                          {"eval_every", static_cast<std::int64_t>(c.eval_every)},
                          {"seed", static_cast<std::int64_t>(c.seed)},
                          {"precision", c.precision},
                          {"save_model", c.save_model},
                          {"checkpoint_every", static_cast<std::int64_t>(c.checkpoint_every)},
                          {"gradient_geometry", c.gradient_geometry},
                          {"train_eval_samples", static_cast<std::int64_t>(c.train_eval_samples)},
                          {"out", c.out}}},
  };
}

}  // namespace

std::string TrainConfig::to_toml() const {
  std::ostringstream text;
  text << as_table(*this) << "\n";
  return text.str();
}

std::vector<std::pair<std::string, std::string>> TrainConfig::settings() const {
  std::vector<std::pair<std::string, std::string>> entries;
  const toml::table root = as_table(*this);
  for (const auto& [section, keys] : root) {
    for (const auto& [key, value] : *keys.as_table()) {
      // Strings as they are, unless a tab or newline would need TOML's escapes; others as TOML.
      std::ostringstream text;
      const auto* string = value.as_string();
      if (string != nullptr && string->get().find_first_of("\t\n") == std::string::npos) {
        text << string->get();
      } else {
        value.visit([&](const auto& node) { text << node; });
      }
      entries.emplace_back(fmt::format("{}.{}", section.str(), key.str()), text.str());
    }
  }
  return entries;
}

}  // namespace gradcomp
