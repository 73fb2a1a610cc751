#include "gradcomp/reproduce/experiment.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "gradcomp/core/error.hpp"
#include "gradcomp/train/plot.hpp"
#include "gradcomp/train/toml_document.hpp"

#ifndef GRADCOMP_SOURCE_DIR
#define GRADCOMP_SOURCE_DIR "."
#endif

namespace gradcomp {

namespace {

using Keys = std::vector<std::string>;

void check_keys(const toml::table& table, const std::string& where, const Keys& valid) {
  for (const auto& [key, _] : table) {
    const std::string name(key.str());
    require(std::find(valid.begin(), valid.end(), name) != valid.end(),
            "{}: unknown key '{}'; valid keys: {}", where, name, fmt::join(valid, ", "));
  }
}

std::string string_of(const toml::table& table, const char* key, const std::string& where,
                      const std::string& fallback = "") {
  const auto* node = table.get(key);
  if (node == nullptr) return fallback;
  const auto* s = node->as_string();
  require(s != nullptr, "{}: {} must be a string", where, key);
  return s->get();
}

std::vector<std::string> strings_of(const toml::table& table, const char* key,
                                    const std::string& where) {
  std::vector<std::string> out;
  const auto* node = table.get(key);
  if (node == nullptr) return out;
  const auto* array = node->as_array();
  require(array != nullptr, "{}: {} must be an array of strings", where, key);
  for (const auto& item : *array) {
    const auto* s = item.as_string();
    require(s != nullptr, "{}: {} must be an array of strings", where, key);
    out.push_back(s->get());
  }
  return out;
}

std::size_t count_of(const toml::table& table, const char* key, const std::string& where,
                     std::size_t fallback) {
  const auto* node = table.get(key);
  if (node == nullptr) return fallback;
  const auto value = node->value<std::int64_t>();
  require(value.has_value() && *value >= 1, "{}: {} must be a whole number >= 1", where, key);
  return static_cast<std::size_t>(*value);
}

// `modes = ["quick", "full"]` (the default): whether the item belongs to this mode.
bool in_mode(const toml::table& table, const std::string& where, ReproduceMode mode) {
  const auto modes = strings_of(table, "modes", where);
  if (modes.empty()) return true;
  for (const auto& m : modes) {
    require(m == "quick" || m == "full", "{}: modes has '{}'; choose quick and/or full", where, m);
  }
  const char* wanted = mode == ReproduceMode::kQuick ? "quick" : "full";
  return std::find(modes.begin(), modes.end(), wanted) != modes.end();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string value_text(const toml::node& node, const std::string& where) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) return fmt::format("{}", f->get());
  throw InvalidInput(fmt::format("{}: values must be strings or numbers", where));
}

using Substitution = std::vector<std::pair<std::string, std::string>>;

// `values = { b = [8, 32], lr = [0.05, 0.2] }` with `zip = true`: the i-th value of every key
// together (b = 8 with lr = 0.05, b = 32 with lr = 0.2).
std::vector<Substitution> zipped(const toml::table& values, const std::string& where) {
  std::vector<Substitution> all;
  for (const auto& [key, node] : values) {
    const auto* array = node.as_array();
    require(array != nullptr && !array->empty(), "{}: values.{} must be a non-empty array", where,
            key.str());
    if (all.empty()) all.resize(array->size());
    require(array->size() == all.size(), "{}: with zip = true every values array needs {} items",
            where, all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      all[i].emplace_back(fmt::format("{{{}}}", key.str()), value_text(*array->get(i), where));
    }
  }
  return all;
}

// Every combination of `values = { r = [16, 64], kappa = [0.1, 0.3] }` (or zipped).
std::vector<Substitution> substitutions(const toml::table* values, bool zip,
                                        const std::string& where) {
  std::vector<Substitution> all{{}};
  if (values == nullptr) return all;
  if (zip) return zipped(*values, where);
  for (const auto& [key, node] : *values) {
    const auto* array = node.as_array();
    require(array != nullptr && !array->empty(), "{}: values.{} must be a non-empty array", where,
            key.str());
    std::vector<Substitution> next;
    for (const auto& partial : all) {
      for (const auto& item : *array) {
        auto extended = partial;
        extended.emplace_back(fmt::format("{{{}}}", key.str()), value_text(item, where));
        next.push_back(extended);
      }
    }
    all = std::move(next);
  }
  return all;
}

void add_arms(const toml::table& table, const std::string& where, ReproduceMode mode,
              std::vector<Arm>& arms) {
  check_keys(table, where,
             {"id", "label", "set", "quick_set", "values", "quick_values", "zip", "modes"});
  if (!in_mode(table, where, mode)) return;
  const std::string id = string_of(table, "id", where);
  require(!id.empty(), "{}: every arm needs an id", where);
  const std::string label = string_of(table, "label", where, id);
  auto overrides = strings_of(table, "set", where);
  if (mode == ReproduceMode::kQuick) {
    const auto quick_overrides = strings_of(table, "quick_set", where);
    overrides.insert(overrides.end(), quick_overrides.begin(), quick_overrides.end());
  }
  const auto* values = table.get_as<toml::table>("values");
  const auto* quick = table.get_as<toml::table>("quick_values");
  require(table.get("values") == nullptr || values != nullptr, "{}: values must be a table", where);
  require(table.get("quick_values") == nullptr || quick != nullptr,
          "{}: quick_values must be a table", where);
  const auto* zip = table.get("zip");
  require(zip == nullptr || zip->is_boolean(), "{}: zip must be true or false", where);
  const bool zip_values = zip != nullptr && zip->as_boolean()->get();
  for (const auto& substitution : substitutions(
           mode == ReproduceMode::kQuick && quick != nullptr ? quick : values, zip_values, where)) {
    Arm arm{id, label, overrides};
    for (const auto& [from, to] : substitution) {
      replace_all(arm.id, from, to);
      replace_all(arm.label, from, to);
      for (auto& o : arm.overrides) replace_all(o, from, to);
    }
    require(arm.id.find('{') == std::string::npos, "{}: id '{}' has a placeholder without values",
            where, arm.id);
    for (const Arm& other : arms) {
      require(other.id != arm.id, "{}: arm id '{}' is used twice", where, arm.id);
    }
    arms.push_back(std::move(arm));
  }
}

// Plot arm lists may end in '*': every arm whose id starts with the rest.
std::vector<std::string> expand_arm_ids(const std::vector<std::string>& patterns,
                                        const std::vector<Arm>& arms, const std::string& where) {
  std::vector<std::string> ids;
  for (const auto& pattern : patterns) {
    const bool prefix = !pattern.empty() && pattern.back() == '*';
    const std::string stem = prefix ? pattern.substr(0, pattern.size() - 1) : pattern;
    std::size_t matched = 0;
    for (const Arm& arm : arms) {
      if (prefix ? arm.id.rfind(stem, 0) == 0 : arm.id == stem) {
        ids.push_back(arm.id);
        ++matched;
      }
    }
    require(matched > 0, "{}: no arm '{}' in this mode", where, pattern);
  }
  return ids;
}

template <class F>
void for_each_table(const toml::table& root, const char* key, const std::string& origin, F&& f) {
  const auto* node = root.get(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  require(array != nullptr, "{}: [[{}]] must be an array of tables", origin, key);
  std::size_t index = 0;
  for (const auto& item : *array) {
    const auto* table = item.as_table();
    require(table != nullptr, "{}: [[{}]] must be an array of tables", origin, key);
    f(*table, fmt::format("{}: [[{}]] #{}", origin, key, ++index));
  }
}

// [[table]] (TableSpec): every cell's arm must exist in this mode.
TableSpec parse_table(const toml::table& t, const std::string& w, const std::vector<Arm>& arms) {
  check_keys(t, w,
             {"title", "columns", "column_label", "rows", "labels", "function", "modes", "baseline",
              "plot", "plot_x", "plot_x_label", "plot_y_label", "plot_log_x"});
  TableSpec table;
  table.title = string_of(t, "title", w);
  table.column_label = string_of(t, "column_label", w, "");
  table.columns = strings_of(t, "columns", w);
  table.labels = strings_of(t, "labels", w);
  table.function = string_of(t, "function", w, "accuracy");
  require(!table.title.empty(), "{}: every table needs a title", w);
  require(!table.columns.empty(), "{}: columns must list at least one column", w);
  const bool labelled = !table.labels.empty();
  const auto* rows = t.get_as<toml::array>("rows");
  require(rows != nullptr && !rows->empty(),
          "{}: rows must be an array of arm-id patterns (\"def-{{c}}\") or arrays of arm ids", w);
  for (const auto& row : *rows) {
    std::vector<std::string> cells;
    if (const auto* pattern = row.as_string()) {
      for (const auto& column : table.columns) {
        std::string id = pattern->get();
        replace_all(id, "{c}", column);
        cells.push_back(id);
      }
      if (!labelled) {
        std::string label = pattern->get();
        replace_all(label, "-{c}", "");
        replace_all(label, "{c}", "");
        table.labels.push_back(label);
      }
    } else if (const auto* list = row.as_array()) {
      for (const auto& item : *list) {
        const auto* id = item.as_string();
        require(id != nullptr, "{}: an explicit row must be an array of arm ids", w);
        cells.push_back(id->get());
      }
      require(cells.size() == table.columns.size(),
              "{}: an explicit row has {} arm ids for {} columns", w, cells.size(),
              table.columns.size());
      if (!labelled) table.labels.push_back(cells.front());
    } else {
      throw InvalidInput(fmt::format("{}: rows must hold strings or arrays of arm ids", w));
    }
    for (const auto& id : cells) {
      if (!id.empty()) expand_arm_ids({id}, arms, w);
    }
    table.cells.push_back(std::move(cells));
  }
  require(table.labels.size() == table.cells.size(), "{}: labels has {} entries for {} rows", w,
          table.labels.size(), table.cells.size());
  const std::string baseline = string_of(t, "baseline", w, "");
  for (const auto& column : table.columns) {
    if (baseline.empty()) break;
    std::string id = baseline;
    replace_all(id, "{c}", column);
    expand_arm_ids({id}, arms, w);
    table.baseline.push_back(id);
  }
  table.plot = string_of(t, "plot", w, "");
  table.plot_x = string_of(t, "plot_x", w, "sends");
  table.plot_x_label = string_of(t, "plot_x_label", w, table.plot_x);
  table.plot_y_label = string_of(t, "plot_y_label", w, "");
  if (const auto* log_x = t.get("plot_log_x")) {
    require(log_x->is_boolean(), "{}: plot_log_x must be true or false", w);
    table.plot_log_x = log_x->as_boolean()->get();
  }
  return table;
}

}  // namespace

Experiment parse_experiment(const std::string& text, const std::string& origin,
                            ReproduceMode mode) {
  toml::table root = parse_toml_document(text, origin);
  check_keys(root, origin, {"experiment", "base", "quick", "arm", "check", "plot", "table"});
  Experiment ex;
  ex.origin = origin;
  const auto* head = root.get_as<toml::table>("experiment");
  require(head != nullptr, "{}: needs an [experiment] table with name and title", origin);
  const std::string where = origin + ": [experiment]";
  check_keys(*head, where, {"name", "title", "paper", "seeds", "quick_seeds"});
  ex.name = string_of(*head, "name", where);
  ex.title = string_of(*head, "title", where, ex.name);
  ex.paper = string_of(*head, "paper", where);
  ex.seeds = mode == ReproduceMode::kQuick ? count_of(*head, "quick_seeds", where, 1)
                                           : count_of(*head, "seeds", where, 3);
  const auto* base = root.get_as<toml::table>("base");
  require(base != nullptr, "{}: needs a [base] table (a training configuration)", origin);
  std::ostringstream config;
  config << *base;
  ex.config_text = config.str();
  if (const auto* quick = root.get_as<toml::table>("quick")) {
    check_keys(*quick, origin + ": [quick]", {"set"});
    if (mode == ReproduceMode::kQuick) ex.mode_overrides = strings_of(*quick, "set", origin);
  }
  for_each_table(root, "arm", origin, [&](const toml::table& t, const std::string& w) {
    add_arms(t, w, mode, ex.arms);
  });
  require(!ex.arms.empty(), "{}: no [[arm]] in this mode", origin);
  for_each_table(root, "check", origin, [&](const toml::table& t, const std::string& w) {
    check_keys(t, w, {"claim", "expect", "known_miss", "modes"});
    if (!in_mode(t, w, mode)) return;
    Check check{string_of(t, "claim", w), Claim(string_of(t, "expect", w)),
                string_of(t, "known_miss", w)};
    for (const auto& call : check.test.calls()) {
      expand_arm_ids({call.arm}, ex.arms, fmt::format("{}: {}", w, call.text));
    }
    ex.checks.push_back(std::move(check));
  });
  for_each_table(root, "plot", origin, [&](const toml::table& t, const std::string& w) {
    check_keys(t, w, {"name", "arms", "x", "y", "modes"});
    if (!in_mode(t, w, mode)) return;
    PlotSpec plot{string_of(t, "name", w),
                  {},
                  string_of(t, "x", w, "epoch"),
                  string_of(t, "y", w, "accuracy")};
    require(!plot.name.empty(), "{}: every plot needs a name", w);
    try {
      validate_axes(plot.x, plot.y);
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("{}: {}", w, e.what()));
    }
    plot.arms = expand_arm_ids(strings_of(t, "arms", w), ex.arms, w);
    ex.plots.push_back(std::move(plot));
  });
  for_each_table(root, "table", origin, [&](const toml::table& t, const std::string& w) {
    if (in_mode(t, w, mode)) ex.tables.push_back(parse_table(t, w, ex.arms));
  });
  return ex;
}

std::vector<std::string> known_experiments() {
  std::vector<std::string> names;
  for (const std::string& dir :
       {std::string("experiments"), std::string(GRADCOMP_SOURCE_DIR) + "/experiments"}) {
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
      if (entry.path().extension() != ".toml") continue;
      const std::string name = entry.path().stem().string();
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string find_experiment(const std::string& name) {
  if (name.size() > 5 && name.ends_with(".toml")) {
    require(std::filesystem::exists(name), "experiment file '{}' does not exist", name);
    return name;
  }
  for (const std::string& dir :
       {std::string("experiments"), std::string(GRADCOMP_SOURCE_DIR) + "/experiments"}) {
    std::string path = fmt::format("{}/{}.toml", dir, name);
    if (std::filesystem::exists(path)) return path;
  }
  throw InvalidInput(fmt::format("no experiment '{}'; known: {} (or give a path to a .toml file)",
                                 name, fmt::join(known_experiments(), ", ")));
}

}  // namespace gradcomp
