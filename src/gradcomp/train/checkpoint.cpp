#include "gradcomp/train/checkpoint.hpp"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/fnv_hash.hpp"
#include "gradcomp/core/npy.hpp"

namespace gradcomp {

namespace {

constexpr char kMagic[] = "GCCKPT2\n";
constexpr std::size_t kMagicBytes = 8;

template <class V>
void put(std::string& out, V value) {
  char bytes[sizeof(V)];
  std::memcpy(bytes, &value, sizeof(V));
  out.append(bytes, sizeof(V));
}

class Reader {
 public:
  Reader(std::string bytes, std::string path) : bytes_(std::move(bytes)), path_(std::move(path)) {}
  template <class V>
  V get(const char* what) {
    V value{};
    std::memcpy(&value, take(sizeof(V), what), sizeof(V));
    return value;
  }
  const char* take(std::size_t count, const char* what) {
    require(count <= bytes_.size() - at_,
            "checkpoint '{}' is truncated: {} needs {} bytes at offset {}", path_, what, count,
            at_);
    const char* p = bytes_.data() + at_;
    at_ += count;
    return p;
  }
  [[nodiscard]] bool done() const { return at_ == bytes_.size(); }

 private:
  std::string bytes_;
  std::string path_;
  std::size_t at_ = 0;
};

// The file's bytes without its checksum, once the checksum matches them: a flipped bit anywhere
// is named as corruption here, not misread later as another configuration, a truncated name or
// a diverged run.
std::string read_verified(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string bytes = text.str();
  require(bytes.size() >= kMagicBytes + sizeof(std::uint64_t) &&
              bytes.compare(0, kMagicBytes, kMagic, kMagicBytes) == 0,
          "'{}' is not a gradcomp checkpoint", path);
  const std::size_t body = bytes.size() - sizeof(std::uint64_t);
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body, sizeof(stored));
  bytes.resize(body);
  require(FnvHash().add_text(bytes).value() == stored,
          "checkpoint '{}' is corrupt: its contents do not match the checksum saved with them (the "
          "file was changed or damaged after it was written); restore it from a copy, or start "
          "the run again",
          path);
  return bytes;
}

}  // namespace

std::string checkpoint_path(const std::string& run_directory, std::size_t rank) {
  return fmt::format("{}/checkpoint/rank-{}.bin", run_directory, rank);
}

template <class T>
void save_checkpoint(const std::string& path, std::uint64_t step,
                     const std::vector<StateBuffer<T>>& buffers, std::span<const double> scalars) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string out(kMagic, kMagicBytes);
  put<std::uint64_t>(out, step);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(buffers.size()));
  for (const auto& buffer : buffers) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(buffer.name.size()));
    out += buffer.name;
    put<std::uint8_t>(out, sizeof(T));
    put<std::uint64_t>(out, buffer.data.size());
    out.append(reinterpret_cast<const char*>(buffer.data.data()), buffer.data.size_bytes());
  }
  put<std::uint32_t>(out, static_cast<std::uint32_t>(scalars.size()));
  for (const double v : scalars) put<double>(out, v);
  put<std::uint64_t>(out, FnvHash().add_text(out).value());
  write_file_atomically(path, out);
}

template <class T>
std::uint64_t load_checkpoint(const std::string& path, const std::vector<StateBuffer<T>>& buffers,
                              std::vector<double>& scalars) {
  require(std::filesystem::exists(path),
          "checkpoint '{}' does not exist; the run was not checkpointed (set run.checkpoint_every)",
          path);
  Reader reader(read_verified(path), path);
  require(std::memcmp(reader.take(kMagicBytes, "the magic"), kMagic, kMagicBytes) == 0,
          "'{}' is not a gradcomp checkpoint", path);
  const auto step = reader.get<std::uint64_t>("the step");
  const auto count = reader.get<std::uint32_t>("the buffer count");
  require(count == buffers.size(),
          "checkpoint '{}' holds {} state buffers, this run has {}: it was made by another "
          "configuration",
          path, count, buffers.size());
  for (const auto& buffer : buffers) {
    const auto length = reader.get<std::uint32_t>("a name length");
    const std::string name(reader.take(length, "a name"), length);
    require(name == buffer.name, "checkpoint '{}' holds '{}' where this run has '{}'", path, name,
            buffer.name);
    const auto width = reader.get<std::uint8_t>("an element size");
    require(width == sizeof(T), "checkpoint '{}' holds {}-byte values, this run uses {}", path,
            width, sizeof(T));
    const auto size = reader.get<std::uint64_t>("an element count");
    require(size == buffer.data.size(), "checkpoint '{}': '{}' has {} values, this run {}", path,
            name, size, buffer.data.size());
    std::memcpy(buffer.data.data(), reader.take(size * sizeof(T), name.c_str()), size * sizeof(T));
  }
  const auto scalar_count = reader.get<std::uint32_t>("the scalar count");
  scalars.clear();
  for (std::uint32_t k = 0; k < scalar_count; ++k)
    scalars.push_back(reader.get<double>("a scalar"));
  require(reader.done(), "checkpoint '{}' has trailing bytes", path);
  return step;
}

template void save_checkpoint<float>(const std::string&, std::uint64_t,
                                     const std::vector<StateBuffer<float>>&,
                                     std::span<const double>);
template void save_checkpoint<double>(const std::string&, std::uint64_t,
                                      const std::vector<StateBuffer<double>>&,
                                      std::span<const double>);
template std::uint64_t load_checkpoint<float>(const std::string&,
                                              const std::vector<StateBuffer<float>>&,
                                              std::vector<double>&);
template std::uint64_t load_checkpoint<double>(const std::string&,
                                               const std::vector<StateBuffer<double>>&,
                                               std::vector<double>&);

}  // namespace gradcomp
