#include "gradcomp/compress/registry.hpp"

#include <fmt/ranges.h>

#include <set>

#include "gradcomp/compress/entries.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

const std::vector<CompressorEntry>& compressor_entries() {
  static const std::vector<CompressorEntry> entries = [] {
    std::vector<CompressorEntry> all = {identity_entry(),    fp16_entry(),       topk_entry(),
                                        randk_entry(),       rbgs_entry(),       threshold_entry(),
                                        scaled_sign_entry(), block_sign_entry(), sign_entry(),
                                        qsgd_entry(),        terngrad_entry(),   sketch_entry(),
                                        rounding_entry(),    powersgd_entry(),   scale_entry()};
    std::set<std::string> names;
    for (const auto& entry : all) {
      require<InternalError>(names.insert(entry.name).second, "compressor '{}' registered twice",
                             entry.name);
    }
    return all;
  }();
  return entries;
}

const CompressorEntry& find_compressor(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& entry : compressor_entries()) {
    if (entry.name == name) return entry;
    names.push_back(entry.name);
  }
  throw InvalidInput(
      fmt::format("unknown compressor '{}'; valid compressors: {}", name, fmt::join(names, ", ")));
}

namespace {

// The entry's parameters with the defaults of `role`: a quantizer's randomness is private.
std::vector<ParamSpec> params_for(const CompressorEntry& entry, CompressorRole role) {
  std::vector<ParamSpec> params = entry.params;
  if (role == CompressorRole::kQuantizer) {
    for (ParamSpec& param : params) {
      if (param.name == "shared") param.default_value = "false";
    }
  }
  return params;
}

}  // namespace

std::unique_ptr<Compressor> make_compressor(std::string_view spec, CompressorRole role) {
  const std::size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view rest =
      colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
  const CompressorEntry& entry = find_compressor(name);
  return entry.make(Params::parse(entry.name, rest, params_for(entry, role)));
}

}  // namespace gradcomp
