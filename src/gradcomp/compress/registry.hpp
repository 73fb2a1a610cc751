#pragma once
// The compressor registry: every compressor by name, with typed parameters.
// Built once inside a function (no static objects across translation units); duplicate names are
// an error at first use.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/compress/params.hpp"

namespace gradcomp {

struct CompressorEntry {
  std::string name;
  std::string summary;  // one line
  std::string wire;     // bits of one message, as a formula (docs/wire-format.md has the layout)
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Compressor>(const Params&)> make;
};

const std::vector<CompressorEntry>& compressor_entries();
const CompressorEntry& find_compressor(std::string_view name);

// What a compressor is used as. A quantizer Q_ω (dqsgd, diana, ef-bc, ec-sgd-diana) draws its
// random choices privately on every worker unless its spec says otherwise (randk's `shared`
// defaults to false there): the ω/n variance reduction of averaging n quantized vectors needs
// independent draws (docs/compressors.md §1.3). A synchronized quantizer (dqsgd-sync) keeps the
// shared seed that makes it linear.
enum class CompressorRole { kCompressor, kQuantizer, kSynchronizedQuantizer };

// "name" or "name:key=value,...". InvalidInput listing the valid names or parameters otherwise.
std::unique_ptr<Compressor> make_compressor(std::string_view spec,
                                            CompressorRole role = CompressorRole::kCompressor);

}  // namespace gradcomp
