// The per-worker kernels of a simulator step (core/elementwise.hpp) on one worker's d-vectors,
// against a copy of the same vector measured in the same run (docs/benchmarks.md, "The
// in-process simulator"). d = 5,000 is the simulator benchmark's model (every vector in L1);
// 1M is a model that streams from memory. Throughput counts 4 bytes per element for every kernel.
//
//   elementwise_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "gradcomp/core/elementwise.hpp"
#include "gradcomp/core/random.hpp"

namespace {

std::vector<float> gaussian(std::size_t d, std::uint64_t seed) {
  std::vector<float> x(d);
  gradcomp::RandomStream stream(seed, gradcomp::Purpose::kTest, 0, 0, 0);
  for (auto& v : x) v = static_cast<float>(stream.normal());
  return x;
}

void per_element(benchmark::State& state, std::size_t d) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d * sizeof(float)));
  state.counters["ns_per_element"] =
      benchmark::Counter(static_cast<double>(state.iterations() * d),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Copy(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto x = gaussian(d, 1);
  std::vector<float> out(d);
  for (auto _ : state) {
    std::memcpy(out.data(), x.data(), d * sizeof(float));
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(out.data());
  }
  per_element(state, d);
}

void SquaredNorm(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto x = gaussian(d, 1);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) benchmark::DoNotOptimize(kernels.squared_norm(x.data(), d));
  per_element(state, d);
}

void DotRow(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto row = gaussian(d, 1), x = gaussian(d, 2);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) benchmark::DoNotOptimize(kernels.dot_row(row.data(), x.data(), d));
  per_element(state, d);
}

// DEF's input p = γ(g + w·z) + e, p in e's storage.
void DecayedInput(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto g = gaussian(d, 1), z = gaussian(d, 2);
  std::vector<float> e = gaussian(d, 3);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) {
    kernels.decayed_input(g.data(), 1e-4F, z.data(), 1e-6F, e.data(), e.data(), d);
    benchmark::DoNotOptimize(e.data());
    benchmark::ClobberMemory();
  }
  per_element(state, d);
}

// The scaled form's input p·(1/γ) (ef-scaled: the compressor sees p/γ) and p = e + γg before it.
void Multiply(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto p = gaussian(d, 1);
  std::vector<float> out(d);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) {
    kernels.multiply(p.data(), 0.37F, out.data(), d);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_element(state, d);
}
void AddScaled(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto g = gaussian(d, 1);
  std::vector<float> e = gaussian(d, 2);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) {
    kernels.add_scaled(e.data(), 1e-6F, g.data(), e.data(), d);
    benchmark::DoNotOptimize(e.data());
    benchmark::ClobberMemory();
  }
  per_element(state, d);
}

// Error feedback's e ← p − s·C with ‖e‖².
void SubtractScaledNorm(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto p = gaussian(d, 1), c = gaussian(d, 2);
  std::vector<float> e(d);
  const auto& kernels = gradcomp::elementwise<float>();
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernels.subtract_scaled_norm(p.data(), 0.5F, c.data(), e.data(), d));
    benchmark::ClobberMemory();
  }
  per_element(state, d);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(5000)->Arg(1 << 20)->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(Copy)->Apply(sizes);
BENCHMARK(SquaredNorm)->Apply(sizes);
BENCHMARK(DotRow)->Apply(sizes);
BENCHMARK(DecayedInput)->Apply(sizes);
BENCHMARK(SubtractScaledNorm)->Apply(sizes);
BENCHMARK(Multiply)->Apply(sizes);
BENCHMARK(AddScaled)->Apply(sizes);

BENCHMARK_MAIN();
