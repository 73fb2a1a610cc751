// libFuzzer target: one parser of untrusted files (GRADCOMP_FUZZ_PARSER: npy, layout, idx,
// idx_gz, libsvm, csv) on arbitrary bytes, written to a file first since the parsers read paths.
// InvalidInput (a message naming the file and the problem) and IoError are the expected answers
// to garbage; any other exception, a crash, a sanitizer report or an allocation beyond
// libFuzzer's limit (a size taken from a header instead of from what the file holds) is a bug.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/layout.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/data/idx.hpp"
#include "gradcomp/data/text_formats.hpp"

namespace {

constexpr std::string_view kParser = GRADCOMP_FUZZ_PARSER;

// A directory of this process's own (several fuzzing jobs may run at once).
const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "gradcomp-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    return std::filesystem::path(pattern);
  }();
  return dir;
}

std::string write_plain(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

std::string write_gzip(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch() / name).string();
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) std::abort();
  if (size > 0) gzwrite(file, data, static_cast<unsigned>(size));
  gzclose(file);
  return path;
}

// IDX takes two files: the first two bytes say how many of the rest are the images file.
void parse_idx(const std::uint8_t* data, std::size_t size, bool gzip) {
  if (size < 2) return;
  const std::size_t split = std::min<std::size_t>(size - 2, std::size_t{data[0]} << 8 | data[1]);
  const auto write = gzip ? write_gzip : write_plain;
  const std::string images = write(gzip ? "images.gz" : "images", data + 2, split);
  const std::string labels =
      write(gzip ? "labels.gz" : "labels", data + 2 + split, size - 2 - split);
  (void)gradcomp::read_idx(images, labels);
}

void parse(const std::uint8_t* data, std::size_t size) {
  if (kParser == "npy") {
    (void)gradcomp::read_npy(write_plain("array.npy", data, size));
  } else if (kParser == "layout") {
    (void)gradcomp::Layout::from_json_file(write_plain("layout.json", data, size));
  } else if (kParser == "idx") {
    parse_idx(data, size, false);
  } else if (kParser == "idx_gz") {
    parse_idx(data, size, true);
  } else if (kParser == "libsvm") {
    (void)gradcomp::read_libsvm(write_plain("data.libsvm", data, size));
  } else if (kParser == "csv") {
    (void)gradcomp::read_csv(write_plain("data.csv", data, size));
  } else {
    std::abort();  // a parser name tests/fuzz/CMakeLists.txt does not know
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    parse(data, size);
  } catch (const gradcomp::InvalidInput&) {
  } catch (const gradcomp::IoError&) {
  }
  return 0;
}
