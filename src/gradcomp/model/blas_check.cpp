#include "gradcomp/model/blas_check.hpp"

#include <link.h>

#include <cstdio>
#include <filesystem>
#include <mutex>

namespace gradcomp {

namespace {

// dl_iterate_phdr's callback: remembers the first loaded object whose name holds "libblas.so".
int find_blas(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (name.find("libblas.so") == std::string::npos) return 0;
  *static_cast<std::string*>(data) = name;
  return 1;
}

}  // namespace

std::optional<std::string> loaded_reference_blas() {
  std::string loaded;
  dl_iterate_phdr(find_blas, &loaded);
  if (loaded.empty()) return std::nullopt;
  // Debian's alternatives make libblas.so.3 a chain of links; the reference BLAS's file is
  // /usr/lib/<triplet>/blas/libblas.so.3.x, OpenBLAS's /usr/lib/<triplet>/openblas-*/libblas.so.3.
  std::error_code error;
  const std::filesystem::path resolved = std::filesystem::canonical(loaded, error);
  if (error || resolved.parent_path().filename() != "blas") return std::nullopt;
  return resolved.string();
}

void warn_if_reference_blas() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const auto path = loaded_reference_blas()) {
      std::fprintf(stderr,
                   "gradcomp: warning: libtorch runs on the reference BLAS (%s), about 5x slower "
                   "for the MLP, and compute times and the simulated clock depend on it; install "
                   "libopenblas0-serial (scripts/setup.sh)\n",
                   path->c_str());
    }
  });
}

}  // namespace gradcomp
