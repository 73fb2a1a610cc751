// The sum of the senders' decodes on a WorkerPool (docs/benchmarks.md, "The sum of the senders'
// decodes"): each iteration is one step's two rounds — every worker rewrites its dense decode on
// the thread whose share it is in (as a sender writes it from its encoding), then the decodes are
// summed in worker order — by coordinate slices (every thread adds every worker's vector over its
// slice of the coordinates) or chained (comm/chained_sum.hpp: every thread adds its own workers'
// vectors onto the partial sums of the threads before it). The simulator's shape: 20 workers,
// d = 5,000; the two sums give the same bits.
//
//   decode_sum_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <span>
#include <vector>

#include "gradcomp/comm/chained_sum.hpp"
#include "gradcomp/comm/coordinate_slices.hpp"
#include "gradcomp/comm/worker_pool.hpp"
#include "gradcomp/core/elementwise.hpp"

namespace {

constexpr std::size_t kWorkers = 20;

// About 32% of the coordinates hold a value, the rest +0; a worker's decode at each step is its
// pattern times a factor of the step (one vectorised pass, as cheap as the sender's own decode).
std::vector<float> pattern_for(std::size_t worker, std::size_t d) {
  std::vector<float> pattern(d);
  for (std::size_t i = 0; i < d; ++i) {
    const std::size_t hash = (i * 2654435761U + worker * 40503U) % 100;
    pattern[i] = hash < 32 ? static_cast<float>(hash) * 0.01F : 0.0F;
  }
  return pattern;
}

void rewrite_decode(std::vector<float>& decode, const std::vector<float>& pattern,
                    std::size_t step) {
  gradcomp::elementwise<float>().multiply(pattern.data(), static_cast<float>(1 + step % 2),
                                          decode.data(), decode.size());
}

void sliced_sum(gradcomp::WorkerPool& pool, std::span<const std::span<const float>> vectors,
                float weight, std::span<float> out) {
  const gradcomp::CoordinateSlices slices(out.size(), pool.threads());
  pool.run(slices.count(), [&](std::size_t s) {
    const std::size_t begin = slices.begin(s);
    const std::size_t end = slices.end(s);
    std::fill(out.begin() + begin, out.begin() + end, 0.0F);
    for (const auto& v : vectors) {
      gradcomp::elementwise<float>().add_scaled(out.data() + begin, weight, v.data() + begin,
                                                out.data() + begin, end - begin);
    }
  });
}

void DecodeSum(benchmark::State& state, bool chained) {
  const auto threads = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  gradcomp::WorkerPool pool(threads);
  std::vector<std::vector<float>> decodes(kWorkers, std::vector<float>(d));
  std::vector<std::vector<float>> patterns;
  for (std::size_t w = 0; w < kWorkers; ++w) patterns.push_back(pattern_for(w, d));
  const std::vector<std::span<const float>> spans(decodes.begin(), decodes.end());
  std::vector<float> sum(d);
  std::size_t step = 0;
  for (auto _ : state) {
    pool.run(kWorkers, [&](std::size_t w) { rewrite_decode(decodes[w], patterns[w], step); });
    if (chained) {
      gradcomp::chained_sum<float>(pool, spans, 0.05F, sum);
    } else {
      sliced_sum(pool, spans, 0.05F, sum);
    }
    benchmark::DoNotOptimize(sum.data());
    ++step;
  }
  state.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 1e-6,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t threads : {1, 2}) b->Args({threads, 5000});
  b->Args({2, 100000});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(DecodeSum, sliced, false)->Apply(shapes);
BENCHMARK_CAPTURE(DecodeSum, chained, true)->Apply(shapes);

BENCHMARK_MAIN();
