// Encode speed of the compressors against a streaming copy of the same vector, measured in the same
// run (docs/benchmarks.md). Throughput is counted in input bytes (4 per float) for every kernel,
// including the copy, so the ratios compare time for the same vector.
//
//   compress_bench --benchmark_filter=... ; bench/report.py turns the JSON output into the table.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "gradcomp/compress/registry.hpp"
#include "gradcomp/compress/topk_select.hpp"
#include "gradcomp/core/random.hpp"

namespace {

using gradcomp::Layout;

const std::vector<float>& gradient(std::size_t d) {
  static std::vector<float> x;
  if (x.size() != d) {
    x.resize(d);
    gradcomp::RandomStream stream(1, gradcomp::Purpose::kTest, 0, 0, 0);
    for (auto& v : x) v = static_cast<float>(stream.normal());
  }
  return x;
}

void StreamingCopy(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto& x = gradient(d);
  std::vector<float> out(d);
  for (auto _ : state) {
    std::memcpy(out.data(), x.data(), d * sizeof(float));
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
}

void Encode(benchmark::State& state, const std::string& spec) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto& x = gradient(d);
  const Layout layout = Layout::flat(d);
  auto compressor = gradcomp::make_compressor(spec);
  std::uint64_t step = 0;
  gradcomp::Message message;  // reused, as a training loop does
  // One untimed call first: it page-faults the message and the compressor's buffers, which a
  // training loop pays once (and which on this VM cost milliseconds at d = 25M).
  compressor->encode(std::span<const float>(x), layout, {7, step++, 0}, message);
  for (auto _ : state) {
    compressor->encode(std::span<const float>(x), layout, {7, step++, 0}, message);
    benchmark::DoNotOptimize(message.bytes.data());
  }
  const std::size_t bytes = message.size_bytes();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
  state.counters["bits_per_element"] = 8.0 * static_cast<double>(bytes) / static_cast<double>(d);
}

void Decode(benchmark::State& state, const std::string& spec) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto& x = gradient(d);
  const Layout layout = Layout::flat(d);
  auto compressor = gradcomp::make_compressor(spec);
  const auto message = compressor->encode(std::span<const float>(x), layout, {7, 0, 0});
  std::vector<float> out(d);
  for (auto _ : state) {
    compressor->decode_add(message, layout, {7, 0, 0}, std::span<float>(out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
}

// The yardstick for Top-k: std::nth_element on |x| (the copy into |x| is not timed).
void NthElementAbs(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto& x = gradient(d);
  const auto k = static_cast<std::size_t>(density * static_cast<double>(d));
  std::vector<float> magnitudes(d);
  for (auto _ : state) {
    state.PauseTiming();
    std::transform(x.begin(), x.end(), magnitudes.begin(), [](float v) { return std::fabs(v); });
    state.ResumeTiming();
    std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(k),
                     magnitudes.end(), std::greater<>());
    benchmark::DoNotOptimize(magnitudes.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
}

void SelectTopK(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto& x = gradient(d);
  const auto k = static_cast<std::size_t>(density * static_cast<double>(d));
  std::vector<std::uint32_t> indices;
  for (auto _ : state) {
    benchmark::DoNotOptimize(gradcomp::select_top_k(std::span<const float>(x), k, 3, indices));
    benchmark::DoNotOptimize(indices.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
}

constexpr std::int64_t kSmall = 1 << 20;     // 1M (1,048,576)
constexpr std::int64_t kLarge = 25'000'000;  // 25M

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(kSmall)->Arg(kLarge)->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(StreamingCopy)->Apply(sizes);
// Threshold at λ = 3.29 keeps ~0.1% of a standard normal vector.
BENCHMARK_CAPTURE(Encode, threshold, std::string("threshold:lambda=3.29"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, scaledsign, std::string("scaledsign"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, sign, std::string("sign"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, blocksign_4096, std::string("blocksign:block=4096"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, rbgs_64, std::string("rbgs:ratio=64"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, fp16, std::string("fp16"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, qsgd_16, std::string("qsgd:levels=16"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, terngrad, std::string("terngrad"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, topk_0_1pct, std::string("topk:ratio=0.001"))->Apply(sizes);
BENCHMARK_CAPTURE(Encode, topk_1pct, std::string("topk:ratio=0.01"))->Apply(sizes);
// One call on 1,024 floats: mostly the fixed cost of a call, which bench/python_overhead.py
// compares with the Python module's.
BENCHMARK_CAPTURE(Encode, topk_1pct, std::string("topk:ratio=0.01"))
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(Encode, blocksign_4096, std::string("blocksign:block=4096"))
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(SelectTopK, 0_1pct, 0.001)->Apply(sizes);
BENCHMARK_CAPTURE(SelectTopK, 1pct, 0.01)->Apply(sizes);
BENCHMARK_CAPTURE(NthElementAbs, 0_1pct, 0.001)->Apply(sizes);
BENCHMARK_CAPTURE(NthElementAbs, 1pct, 0.01)->Apply(sizes);
BENCHMARK_CAPTURE(Decode, topk_1pct, std::string("topk:ratio=0.01"))->Apply(sizes);
BENCHMARK_CAPTURE(Decode, blocksign_4096, std::string("blocksign:block=4096"))->Apply(sizes);
BENCHMARK_CAPTURE(Decode, qsgd_16, std::string("qsgd:levels=16"))->Apply(sizes);

BENCHMARK_MAIN();
