// The seed corpus of one decoder fuzz target: real messages of its compressor on every fuzz layout,
// from several inputs, steps and workers, in float and in double (the float target rejects the
// double ones at the header, which is a branch worth covering too). The first layout gets every
// combination, the others each input once and one double message. usage: make_corpus SPEC DIR;
// `make fuzz-corpus` runs it for every target into tests/fuzz/corpus/NAME/.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_layout.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/random.hpp"

namespace {

using gradcomp::fuzzing::fuzz_layouts;

// Inputs with different shapes of magnitude: Gaussian, all zero, one spike, a wide range (inside
// fp16's, which fp16 refuses to leave).
std::vector<std::vector<double>> inputs(std::size_t d) {
  gradcomp::RandomStream stream(2026, gradcomp::Purpose::kTest, 0, 0, 0);
  std::vector<double> gaussian(d), spike(d, 0.0), wide(d);
  for (std::size_t i = 0; i < d; ++i) {
    gaussian[i] = stream.normal();
    wide[i] = std::ldexp(stream.normal(), static_cast<int>(i % 24) - 14);
  }
  spike[d / 2] = 3.5;
  return {gaussian, std::vector<double>(d, 0.0), spike, wide};
}

template <class T>
std::vector<std::uint8_t> message_of(const std::string& spec, const gradcomp::Layout& layout,
                                     const std::vector<double>& input, std::uint64_t step,
                                     std::uint32_t worker) {
  auto compressor = gradcomp::make_compressor(spec);
  const std::vector<T> x(input.begin(), input.end());
  return compressor->encode(std::span<const T>(x), layout, {0, step, worker}).bytes;
}

void write_seed(const std::filesystem::path& file, std::size_t layout_index,
                const std::vector<std::uint8_t>& message) {
  std::ofstream out(file, std::ios::binary);
  out.put(static_cast<char>(gradcomp::fuzzing::whole_message_on(layout_index)));
  out.write(reinterpret_cast<const char*>(message.data()),
            static_cast<std::streamsize>(message.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_corpus SPEC DIR\n");
    return 2;
  }
  const std::string spec = argv[1];
  const std::filesystem::path dir = argv[2];
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int count = 0;
  for (std::size_t l = 0; l < gradcomp::fuzzing::kLayoutCount; ++l) {
    const gradcomp::Layout& layout = fuzz_layouts()[l];
    const auto all = inputs(layout.total_size());
    const std::string prefix = "layout" + std::to_string(l) + "-";
    for (std::size_t i = 0; i < all.size(); ++i) {
      for (const std::uint64_t step : {0U, 1U}) {
        for (const std::uint32_t worker : {0U, 1U}) {
          if (l > 0 && (step != 0 || worker != 0)) continue;
          write_seed(dir / (prefix + "float-" + std::to_string(count++)), l,
                     message_of<float>(spec, layout, all[i], step, worker));
        }
      }
      if (l > 0 && i > 0) continue;
      write_seed(dir / (prefix + "double-" + std::to_string(count++)), l,
                 message_of<double>(spec, layout, all[i], 0, 0));
    }
  }
  std::printf("%d seeds for %s in %s\n", count, spec.c_str(), dir.c_str());
  return 0;
}
