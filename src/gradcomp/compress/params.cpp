#include "gradcomp/compress/params.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

std::string ParamSpec::range_text() const {
  switch (type) {
    case ParamType::kBool:
      return "true|false";
    case ParamType::kChoice:
      return fmt::format("{}", fmt::join(choices, "|"));
    case ParamType::kInt:
      return fmt::format("[{}, {}]", min, max);
    case ParamType::kReal:
      return fmt::format("{}{}, {}]", min_exclusive ? "(" : "[", min, max);
    case ParamType::kList:
      return fmt::format("numbers in [{}, {}] separated by /", min, max);
  }
  return "";
}

ParamSpec int_param(std::string name, std::string def, double min, double max, std::string help) {
  return ParamSpec{std::move(name), ParamType::kInt, std::move(def), min, max, {}, std::move(help)};
}
ParamSpec real_param(std::string name, std::string def, double min, double max, std::string help,
                     bool min_exclusive) {
  return ParamSpec{std::move(name), ParamType::kReal, std::move(def), min, max, {},
                   std::move(help), min_exclusive};
}
ParamSpec bool_param(std::string name, std::string def, std::string help) {
  return ParamSpec{std::move(name), ParamType::kBool, std::move(def), 0, 0, {}, std::move(help)};
}
ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices,
                       std::string help) {
  return ParamSpec{std::move(name),    ParamType::kChoice, std::move(def), 0, 0,
                   std::move(choices), std::move(help)};
}

ParamSpec list_param(std::string name, std::string def, double min, double max, std::string help) {
  return ParamSpec{std::move(name), ParamType::kList, std::move(def), min, max, {},
                   std::move(help)};
}

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t slash = std::min(text.find('/', start), text.size());
    items.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
  return items;
}

std::string valid_names(const std::vector<ParamSpec>& specs) {
  std::vector<std::string> names;
  names.reserve(specs.size());
  for (const auto& s : specs) names.push_back(fmt::format("{} {}", s.name, s.range_text()));
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

double parse_number(std::string_view owner, const ParamSpec& spec, const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  require(ec == std::errc() && ptr == end && std::isfinite(value),
          "{}: parameter {}='{}' is not a number; valid range {}", owner, spec.name, text,
          spec.range_text());
  if (spec.type == ParamType::kInt) {
    require(value == std::floor(value), "{}: parameter {}='{}' must be an integer in {}", owner,
            spec.name, text, spec.range_text());
  }
  const bool above_min = spec.min_exclusive ? value > spec.min : value >= spec.min;
  require(above_min && value <= spec.max, "{}: parameter {}={} is out of range; valid range {}",
          owner, spec.name, text, spec.range_text());
  return value;
}

void validate(std::string_view owner, const ParamSpec& spec, const std::string& text) {
  switch (spec.type) {
    case ParamType::kInt:
    case ParamType::kReal:
      parse_number(owner, spec, text);
      break;
    case ParamType::kBool:
      require(text == "true" || text == "false", "{}: parameter {}='{}' must be true or false",
              owner, spec.name, text);
      break;
    case ParamType::kList: {
      ParamSpec item = spec;
      item.type = ParamType::kReal;
      for (const auto& piece : split_list(text)) parse_number(owner, item, piece);
      break;
    }
    case ParamType::kChoice: {
      bool known = false;
      for (const auto& c : spec.choices) known = known || c == text;
      require(known, "{}: parameter {}='{}' is not one of {}", owner, spec.name, text,
              spec.range_text());
      break;
    }
  }
}

}  // namespace

Params Params::parse(std::string_view owner, std::string_view text,
                     const std::vector<ParamSpec>& specs) {
  Params params;
  params.owner_ = owner;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    require(eq != std::string_view::npos && eq > 0,
            "{}: '{}' is not key=value; parameters of {}: {}", owner, item, owner,
            valid_names(specs));
    const std::string key(item.substr(0, eq));
    const std::string value(item.substr(eq + 1));
    const ParamSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == key) spec = &s;
    }
    require(spec != nullptr, "{}: unknown parameter '{}'; parameters of {}: {}", owner, key, owner,
            valid_names(specs));
    require(params.given_.count(key) == 0, "{}: parameter '{}' given twice", owner, key);
    validate(owner, *spec, value);
    params.values_[key] = value;
    params.given_[key] = true;
    start = comma + 1;
  }
  std::vector<std::string> parts;
  for (const auto& s : specs) {
    if (!params.values_.count(s.name) && !s.default_value.empty()) {
      params.values_[s.name] = s.default_value;
    }
    if (!params.values_.count(s.name)) {
      params.unset_[s.name] = fmt::format("{} ({})", s.help, s.range_text());
    }
    if (params.values_.count(s.name)) parts.push_back(s.name + "=" + params.values_[s.name]);
  }
  params.canonical_ =
      parts.empty() ? std::string(owner) : fmt::format("{}:{}", owner, fmt::join(parts, ","));
  return params;
}

std::vector<double> Params::list(const std::string& name) const {
  std::vector<double> values;
  const std::string& text = raw(name);
  if (text.empty()) return values;
  for (const auto& piece : split_list(text)) values.push_back(std::stod(piece));
  return values;
}

const std::string& Params::raw(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  // A parameter without a default that the spec left out: the user's to give.
  const auto unset = unset_.find(name);
  require<InternalError>(unset != unset_.end(), "{}: parameter {} is not declared", owner_, name);
  throw InvalidInput(fmt::format("{}: give parameter {}: {}", owner_, name, unset->second));
}

std::int64_t Params::integer(const std::string& name) const {
  return static_cast<std::int64_t>(std::stod(raw(name)));
}
double Params::real(const std::string& name) const {
  return std::stod(raw(name));
}
bool Params::flag(const std::string& name) const {
  return raw(name) == "true";
}
const std::string& Params::choice(const std::string& name) const {
  return raw(name);
}

}  // namespace gradcomp
