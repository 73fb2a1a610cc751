#pragma once
// Typed parameters of a registered compressor, parsed from a spec such as
// "topk:ratio=0.001,scope=layer". An unknown parameter, a malformed value or a value out of range
// is an InvalidInput whose message lists what is valid.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradcomp {

enum class ParamType { kInt, kReal, kBool, kChoice, kList };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kReal;
  std::string default_value;  // empty: no default (optional, or one of a group given)
  double min = 0;             // inclusive range for kInt and kReal
  double max = 0;
  std::vector<std::string> choices;  // for kChoice
  std::string help;
  bool min_exclusive = false;

  [[nodiscard]] std::string range_text() const;  // "(0, 1]", "{model, layer}", "true|false"
};

// Builders for the common kinds, to keep entries short.
ParamSpec int_param(std::string name, std::string def, double min, double max, std::string help);
ParamSpec real_param(std::string name, std::string def, double min, double max, std::string help,
                     bool min_exclusive = false);
ParamSpec bool_param(std::string name, std::string def, std::string help);
ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices,
                       std::string help);
// Numbers in [min, max] separated by '/', e.g. "150/250" (a comma would end the parameter).
ParamSpec list_param(std::string name, std::string def, double min, double max, std::string help);

class Params {
 public:
  // Parses "key=value,key=value" against the specs of compressor `owner`.
  static Params parse(std::string_view owner, std::string_view text,
                      const std::vector<ParamSpec>& specs);

  [[nodiscard]] bool given(const std::string& name) const { return given_.count(name) != 0; }
  [[nodiscard]] std::int64_t integer(const std::string& name) const;
  [[nodiscard]] double real(const std::string& name) const;
  [[nodiscard]] bool flag(const std::string& name) const;
  [[nodiscard]] const std::string& choice(const std::string& name) const;
  [[nodiscard]] std::vector<double> list(const std::string& name) const;
  // The canonical spec: name and every parameter with a value, in declaration order.
  [[nodiscard]] const std::string& canonical() const { return canonical_; }

 private:
  [[nodiscard]] const std::string& raw(const std::string& name) const;
  std::string owner_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
  std::map<std::string, std::string> unset_;  // declared, no default, not given: what it is
  std::string canonical_;
};

}  // namespace gradcomp
