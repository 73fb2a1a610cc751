#include "gradcomp/core/npy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "gradcomp/core/checked_size.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

std::size_t NpyArray::size() const {
  return std::visit([](const auto& v) { return v.size(); }, data);
}

namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string header_field(const std::string& path, const std::string& header,
                         const std::string& key) {
  const std::regex pattern("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  std::smatch match;
  require(std::regex_search(header, match, pattern),
          "'{}' is not a valid .npy file: its header has no '{}' entry", path, key);
  return match[1];
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  require(std::filesystem::is_regular_file(path, ec),
          "input file '{}' does not exist or is not a "
          "regular file; give a NumPy .npy file (np.save)",
          path);
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "input file '{}' cannot be opened for reading", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0,
          "'{}' is not a NumPy .npy file (no \\x93NUMPY magic); save the vector with numpy.save",
          path);
  const auto major = static_cast<unsigned char>(bytes[6]);
  require(major >= 1 && major <= 3, "'{}': .npy format version {} is not supported (1-3 are)", path,
          major);
  std::size_t header_length = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) |
                    (std::size_t{static_cast<unsigned char>(bytes[9])} << 8);
    header_start = 10;
  } else {
    require(bytes.size() >= 12, "'{}' is truncated inside the .npy preamble", path);
    for (int i = 3; i >= 0; --i) {
      header_length = (header_length << 8) | static_cast<unsigned char>(bytes[8 + i]);
    }
    header_start = 12;
  }
  require(header_start + header_length <= bytes.size(),
          "'{}' is truncated: the .npy header claims {} bytes", path, header_length);
  const std::string header = bytes.substr(header_start, header_length);
  const std::string descr = header_field(path, header, "descr");
  const std::string fortran = header_field(path, header, "fortran_order");
  const std::string shape_text = header_field(path, header, "shape");

  NpyArray array;
  std::string dims = shape_text.substr(1, shape_text.size() - 2);
  std::stringstream stream(dims);
  std::string item;
  while (std::getline(stream, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \tL") + 1);
    if (item.empty()) continue;
    require(std::all_of(item.begin(), item.end(), ::isdigit),
            "'{}': shape {} is not a tuple of integers", path, shape_text);
    std::size_t dim = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), dim);
    require(error == std::errc{} && end == item.data() + item.size(),
            "'{}': shape {} has a dimension that does not fit in 64 bits", path, shape_text);
    array.shape.push_back(dim);
  }
  const std::optional<std::size_t> counted = checked_product(array.shape);
  const std::optional<std::size_t> data_bytes =
      counted ? checked_mul(*counted, 8) : std::optional<std::size_t>{};
  require(data_bytes.has_value(),
          "'{}': shape {} holds more elements than 64 bits count; the header is corrupt", path,
          shape_text);
  const std::size_t count = *counted;
  require(fortran == "False" || array.shape.size() <= 1,
          "'{}' is stored in Fortran order; save a C-ordered array (np.ascontiguousarray)", path);
  require(count > 0, "'{}' holds an empty array (shape {}); give at least one element", path,
          shape_text);
  const bool is_f4 = descr == "'<f4'" || descr == "'=f4'";
  const bool is_f8 = descr == "'<f8'" || descr == "'=f8'";
  require(is_f4 || is_f8,
          "'{}' has dtype {}; gradcomp reads float32 ('<f4') or float64 ('<f8'), "
          "convert with x.astype(np.float32)",
          path, descr);
  const std::size_t width = is_f4 ? 4 : 8;
  const std::size_t data_start = header_start + header_length;
  require(bytes.size() - data_start == count * width,
          "'{}' is truncated or padded: shape {} of {} needs {} data bytes, the file has {}", path,
          shape_text, descr, count * width, bytes.size() - data_start);
  if (is_f4) {
    std::vector<float> values(count);
    std::memcpy(values.data(), bytes.data() + data_start, count * 4);
    array.data = std::move(values);
  } else {
    std::vector<double> values(count);
    std::memcpy(values.data(), bytes.data() + data_start, count * 8);
    array.data = std::move(values);
  }
  return array;
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  // A temporary name of this process's own: the ranks of one machine may write the same shared
  // file (the optimum cache) at once; each renames its own complete copy. A failed write (a full
  // disk) removes its temporary: nothing half-written is left beside the file.
  const std::string temporary = fmt::format("{}.tmp.{}", path, ::getpid());
  const auto fail = [&](const std::string& message) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw IoError(message);
  };
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out.good()) fail(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out.good()) fail(fmt::format("writing '{}' failed: {}", path, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) fail(fmt::format("cannot move '{}' to '{}': {}", temporary, path, ec.message()));
}

template <class T>
void write_npy(const std::string& path, const std::vector<T>& values,
               const std::vector<std::size_t>& shape) {
  std::string shape_text = shape.size() == 1 ? fmt::format("({},)", shape[0])
                                             : fmt::format("({})", fmt::join(shape, ", "));
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   std::is_same_v<T, float> ? "<f4" : "<f8", shape_text);
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string contents(kMagic, 6);
  contents.push_back('\x01');
  contents.push_back('\x00');
  contents.push_back(static_cast<char>(header.size() & 0xFF));
  contents.push_back(static_cast<char>(header.size() >> 8));
  contents += header;
  contents.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  write_file_atomically(path, contents);
}

template void write_npy<float>(const std::string&, const std::vector<float>&,
                               const std::vector<std::size_t>&);
template void write_npy<double>(const std::string&, const std::vector<double>&,
                                const std::vector<std::size_t>&);

}  // namespace gradcomp
