#include "gradcomp/data/idx.hpp"

#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include "gradcomp/core/checked_size.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

// The whole file, decompressed if it is gzip (zlib reads plain files through the same call).
std::vector<std::uint8_t> read_all(const std::string& path) {
  require(std::filesystem::exists(path), "IDX file '{}' does not exist", path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) throw IoError(fmt::format("cannot open IDX file '{}'", path));
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[1 << 16];
  for (;;) {
    const int got = gzread(file.get(), buffer, sizeof(buffer));
    if (got < 0) {
      int code = 0;
      throw InvalidInput(fmt::format("IDX file '{}' is corrupt at byte {}: {}", path, bytes.size(),
                                     gzerror(file.get(), &code)));
    }
    if (got == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + got);
  }
  return bytes;
}

std::uint32_t big_endian(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

struct IdxFile {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> dims;
  std::size_t data_offset = 0;
};

IdxFile parse(const std::string& path, std::size_t expected_dims) {
  IdxFile f{read_all(path), {}, 0};
  require(f.bytes.size() >= 4, "IDX file '{}' is truncated: {} bytes, the header needs 4", path,
          f.bytes.size());
  require(f.bytes[0] == 0 && f.bytes[1] == 0 && f.bytes[2] == 0x08 && f.bytes[3] == expected_dims,
          "IDX file '{}' has magic number {:#010x} at offset 0, expected {:#010x} (unsigned "
          "bytes, {} dimensions)",
          path, big_endian(f.bytes, 0), 0x800U + expected_dims, expected_dims);
  f.data_offset = 4 + 4 * expected_dims;
  require(f.bytes.size() >= f.data_offset, "IDX file '{}' is truncated in its header at offset {}",
          path, f.bytes.size());
  for (std::size_t k = 0; k < expected_dims; ++k) f.dims.push_back(big_endian(f.bytes, 4 + 4 * k));
  const std::optional<std::size_t> counted = checked_product(f.dims);
  require(counted.has_value(),
          "IDX file '{}': dimensions {} hold more bytes than 64 bits count; the header is corrupt",
          path, f.dims);
  const std::size_t total = *counted;
  require(f.bytes.size() - f.data_offset == total,
          "IDX file '{}' is {}: the header promises {} bytes of data after offset {}, the file "
          "has {}",
          path, f.bytes.size() - f.data_offset < total ? "truncated" : "longer than its header",
          total, f.data_offset, f.bytes.size() - f.data_offset);
  return f;
}

}  // namespace

Dataset read_idx(const std::string& images, const std::string& labels) {
  const IdxFile x = parse(images, 3);
  const IdxFile y = parse(labels, 1);
  require(x.dims[0] == y.dims[0], "IDX files '{}' ({} images) and '{}' ({} labels) disagree",
          images, x.dims[0], labels, y.dims[0]);
  Dataset d;
  d.name = images;
  d.samples = x.dims[0];
  d.features = x.dims[1] * x.dims[2];
  d.shape = {1, x.dims[1], x.dims[2]};
  d.dense.resize(d.samples * d.features);
  for (std::size_t i = 0; i < d.dense.size(); ++i) {
    d.dense[i] = static_cast<float>(x.bytes[x.data_offset + i]) / 255.0F;
  }
  std::size_t classes = 0;
  for (std::size_t i = 0; i < d.samples; ++i) {
    const std::uint8_t label = y.bytes[y.data_offset + i];
    require(label < 100, "IDX label file '{}': label {} at offset {} is not a class index", labels,
            label, y.data_offset + i);
    d.labels.push_back(label);
    classes = std::max<std::size_t>(classes, label + 1U);
  }
  d.classes = classes;
  d.check();
  return d;
}

}  // namespace gradcomp
