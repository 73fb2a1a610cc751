#pragma once
// TOML text to a toml++ table, with a parse error reported as InvalidInput "origin:line:column:
// what" (the configurations of train/ and the experiments of reproduce/ share it).
#include <fmt/format.h>
#include <toml++/toml.h>

#include <string>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

inline toml::table parse_toml_document(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InvalidInput(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line,
                                   e.source().begin.column, e.description()));
  }
}

}  // namespace gradcomp
