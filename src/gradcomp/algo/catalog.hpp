#pragma once
// The catalog: everything selectable by name (compressors, algorithms, step-size schedules) with
// its parameters, defaults, ranges and properties. `gradcomp list --json` prints it, and the
// Python module's list_compressors() / list_algorithms() return its parts, so both say the same.
#include <string>

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/layout.hpp"

namespace gradcomp {

// {"compressors": [...], "algorithms": [...], "schedules": [...]} as JSON (docs/cli.md lists the
// fields). indent < 0: one line.
std::string catalog_json(int indent = -1);

// One compressor's "properties" object as the catalog lists it (unbiased, linear_under_shared_seed,
// exchange, randomized, shared_randomness, stateful, error_bound) and its constants for `layout`
// (delta, omega, upsilon2: null where the theory gives none or no layout is given; note).
std::string compressor_properties_json(const Compressor& compressor, const Layout* layout,
                                       int indent = -1);

}  // namespace gradcomp
