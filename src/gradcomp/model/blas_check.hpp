// Which BLAS libtorch's matrix products run on. Debian's libtorch links libblas.so.3, which is the
// reference BLAS (libblas3, in /usr/lib/<triplet>/blas/) unless an optimised BLAS takes the
// alternative; on the reference BLAS the MLP's step is 5.6× slower (docs/benchmarks.md "The BLAS
// under libtorch"), which changes every wall-clock comparison.
#pragma once

#include <optional>
#include <string>

namespace gradcomp {

// The resolved path of the loaded libblas.so.3 when it is Debian's reference BLAS (its file lives
// in a directory named `blas`); nothing when another BLAS, or none, is loaded.
std::optional<std::string> loaded_reference_blas();

// Prints a warning on stderr, once per process, when libtorch runs on the reference BLAS.
void warn_if_reference_blas();

}  // namespace gradcomp
