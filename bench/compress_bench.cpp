// Encode speed of the compressors against a streaming copy of the same vector, measured in the same
// run (docs/benchmarks.md). Throughput is counted in input bytes (4 per float) for every kernel,
// including the copy, so the ratios compare time for the same vector.
//
//   compress_bench --benchmark_filter=... ; bench/report.py turns the JSON output into the table.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gradcomp/compress/registry.hpp"
#include "gradcomp/compress/sparse_codec.hpp"
#include "gradcomp/compress/topk_select.hpp"
#include "gradcomp/core/bit_stream.hpp"
#include "gradcomp/core/index_coding.hpp"
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

// The sparse section alone (issue 17): Rice-coded indices and fp32 values of a given kept set
// (the selection is not timed), encoded into a message and decoded and added into a d-vector;
// the yardstick writes each kept element once (out[index] = value, from a list). Counters: ns
// per kept element.
struct KeptSet {
  std::vector<gradcomp::SparseSegment> parts;
  std::vector<std::size_t> global;
  std::vector<float> values;
};

KeptSet kept_set(std::size_t d, double density) {
  const auto& x = gradient(d);
  // Every coordinate with |x| above the normal quantile of the density: a scattered support.
  std::vector<float> magnitudes(d);
  std::transform(x.begin(), x.end(), magnitudes.begin(), [](float v) { return std::fabs(v); });
  const auto k =
      std::max<std::size_t>(1, static_cast<std::size_t>(density * static_cast<double>(d)));
  std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   magnitudes.end(), std::greater<>());
  const float cut = magnitudes[k - 1];
  KeptSet set;
  set.parts.push_back({gradcomp::Segment{0, d}, {}, {}});
  for (std::size_t i = 0; i < d; ++i) {
    if (std::fabs(x[i]) >= cut) {
      set.parts[0].indices.push_back(static_cast<std::uint32_t>(i));
      set.global.push_back(i);
      set.values.push_back(x[i]);
    }
  }
  return set;
}

void per_kept(benchmark::State& state, std::size_t kept) {
  state.counters["ns_per_kept"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kept),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["kept"] = static_cast<double>(kept);
}

// The kept set's sparse section written into a reused message: its indices with `choice`, then
// write_values(out, set) for the values (nothing: the index part alone).
template <class WriteValues>
void encode_section(benchmark::State& state, double density, gradcomp::IndexChoice choice,
                    WriteValues write_values) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    gradcomp::write_sparse_indices(out, set.parts, choice);
    write_values(out, set);
    benchmark::DoNotOptimize(out.data());
  }
  per_kept(state, set.global.size());
}

// The index code as the compressors choose it by default (`index = "auto"`), or `rice` (the
// smallest b, where auto may take the bitmap, b = 0); the values then gathered from x in a pass
// of their own (write_sparse_values; Random-k reads them in its draw instead: RandKEncode).
void SparseEncode(benchmark::State& state, double density,
                  gradcomp::IndexChoice choice = gradcomp::IndexChoice::kAuto) {
  const std::vector<float>& x = gradient(static_cast<std::size_t>(state.range(0)));
  encode_section(state, density, choice, [&](std::vector<std::uint8_t>& out, const KeptSet& set) {
    gradcomp::write_sparse_values<float>(out, x, set.parts, gradcomp::ValueFormat::kFp32);
  });
}

// The section as Top-k and the hard threshold write it: their selection hands the kept values
// back in index order, so the values are appended, not gathered from x.
void SparseEncodeCollected(benchmark::State& state, double density) {
  encode_section(state, density, gradcomp::IndexChoice::kAuto,
                 [](std::vector<std::uint8_t>& out, const KeptSet& set) {
                   gradcomp::append_values<float>(out, set.values, gradcomp::ValueFormat::kFp32);
                 });
}

// The index part of SparseEncode alone (the plan and the code, no values).
void SparseIndexEncode(benchmark::State& state, double density) {
  encode_section(state, density, gradcomp::IndexChoice::kAuto,
                 [](std::vector<std::uint8_t>&, const KeptSet&) {});
}

// Random-k's whole encode with private indices (the header and the finiteness pass over x, the
// draw, the index code, the values read from x), per kept element: SparseEncode's section as the
// compressor writes it, with what comes before it.
void RandKEncode(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const std::vector<float>& x = gradient(d);
  const Layout layout = Layout::flat(d);
  auto compressor =
      gradcomp::make_compressor("randk:shared=false,ratio=" + std::to_string(density));
  std::uint64_t step = 0;
  gradcomp::Message message;
  compressor->encode(std::span<const float>(x), layout, {7, step++, 0}, message);
  std::vector<float> decoded(d);
  compressor->decode(message, layout, {7, 0, 0}, std::span<float>(decoded));
  const auto kept = static_cast<std::size_t>(
      std::count_if(decoded.begin(), decoded.end(), [](float v) { return v != 0.0F; }));
  for (auto _ : state) {
    compressor->encode(std::span<const float>(x), layout, {7, step++, 0}, message);
    benchmark::DoNotOptimize(message.bytes.data());
  }
  per_kept(state, kept);
}

void SparseDecode(benchmark::State& state, double density,
                  gradcomp::IndexChoice choice = gradcomp::IndexChoice::kAuto) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  std::vector<std::uint8_t> bytes;
  gradcomp::write_sparse_indices(bytes, set.parts, choice);
  gradcomp::write_sparse_values<float>(bytes, gradient(d), set.parts, gradcomp::ValueFormat::kFp32);
  const std::vector<gradcomp::Segment> segments{set.parts[0].segment};
  const std::vector<std::size_t> counts{set.global.size()};
  std::vector<float> out(d);
  for (auto _ : state) {
    gradcomp::ByteReader reader(bytes);
    gradcomp::read_sparse_add(reader, segments, counts, gradcomp::ValueFormat::kFp32,
                              std::span<float>(out), 0.5F);
    benchmark::DoNotOptimize(out.data());
  }
  per_kept(state, set.global.size());
}

// The hard-threshold compressor keeping exactly that set (λ = the set's cut).
std::unique_ptr<gradcomp::Compressor> threshold_for(const KeptSet& set) {
  float cut = INFINITY;
  for (const float v : set.values) cut = std::min(cut, std::fabs(v));
  return gradcomp::make_compressor(fmt::format("threshold:lambda={:.9g}", cut));
}

// The threshold compressor's whole encode of that set, its selection included (a pass over the
// d elements), into a reused message.
void ThresholdEncode(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  auto compressor = threshold_for(set);
  const gradcomp::Layout layout = gradcomp::Layout::flat(d);
  gradcomp::Message message;
  compressor->encode(gradient(d), layout, {}, message);  // buffers paged in, as in training
  for (auto _ : state) {
    compressor->encode(gradient(d), layout, {}, message);
    benchmark::DoNotOptimize(message.bytes.data());
  }
  per_kept(state, set.global.size());
}

// The same kept set decoded by the threshold compressor, as a receiver does.
void ThresholdDecode(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  auto compressor = threshold_for(set);
  const gradcomp::Layout layout = gradcomp::Layout::flat(d);
  const gradcomp::Message message = compressor->encode(gradient(d), layout, {});
  std::vector<float> out(d);
  for (auto _ : state) {
    compressor->decode_add(message, layout, {}, std::span<float>(out), 0.5F);
    benchmark::DoNotOptimize(out.data());
  }
  per_kept(state, set.global.size());
}

void WriteKeptOnce(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  std::vector<float> out(d);
  for (auto _ : state) {
    for (std::size_t i = 0; i < set.global.size(); ++i) out[set.global[i]] = set.values[i];
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(out.data());
  }
  per_kept(state, set.global.size());
}

// The decode's floor: each kept element added once from a list (out[index] += weight·value), a
// read-modify-write of the line where WriteKeptOnce only writes it.
void AddKeptOnce(benchmark::State& state, double density) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const KeptSet set = kept_set(d, density);
  std::vector<float> out(d);
  for (auto _ : state) {
    for (std::size_t i = 0; i < set.global.size(); ++i) out[set.global[i]] += 0.5F * set.values[i];
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(out.data());
  }
  per_kept(state, set.global.size());
}

// Where split Rice pays (index_coding.hpp's kSplitMinimum): a segment of `kept` indices at the
// density (b from it: 6 at 1.2%, 9 at 0.15%), written with Rice's best b in the `split` layout or
// the interleaved one, then read and added as a receiver does. Each iteration encodes the section
// once and decodes it once (one receiver); counters: ns per kept element of each part.
void SplitLayout(benchmark::State& state, double density, bool split) {
  const auto kept = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(static_cast<double>(kept) / density);
  const KeptSet set = kept_set(d, density);
  const gradcomp::SparseSegment& part = set.parts[0];
  gradcomp::IndexPlan plan = gradcomp::plan_indices(part.indices, d, gradcomp::IndexChoice::kRice);
  plan.split = split;
  const std::vector<gradcomp::Segment> segments{part.segment};
  const std::vector<std::size_t> counts{part.indices.size()};
  std::vector<std::uint8_t> message;
  std::vector<float> out(d);
  const auto encode = [&] {
    message.resize((8 + plan.bits + 7) / 8 + 8);  // the writer's 8 bytes of slack
    gradcomp::PresizedBitWriter writer(message.data());
    writer.write(plan.tag(), 8);
    gradcomp::write_indices(writer, part.indices, d, plan);
    message.resize(writer.bytes());
    gradcomp::append_values<float>(message, set.values, gradcomp::ValueFormat::kFp32);
  };
  const auto decode = [&] {
    gradcomp::ByteReader reader(message);
    gradcomp::read_sparse_add(reader, segments, counts, gradcomp::ValueFormat::kFp32,
                              std::span<float>(out), 0.5F);
  };
  double encode_seconds = 0;
  double decode_seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    encode();
    benchmark::DoNotOptimize(message.data());
    const auto middle = std::chrono::steady_clock::now();
    decode();
    benchmark::DoNotOptimize(out.data());
    const auto end = std::chrono::steady_clock::now();
    encode_seconds += std::chrono::duration<double>(middle - start).count();
    decode_seconds += std::chrono::duration<double>(end - middle).count();
  }
  per_kept(state, part.indices.size());
  const double elements = static_cast<double>(state.iterations() * part.indices.size());
  state.counters["encode_ns"] = 1e9 * encode_seconds / elements;
  state.counters["decode_ns"] = 1e9 * decode_seconds / elements;
  state.counters["b"] = plan.rice_bits;
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

void simulator_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(5000)->Arg(kSmall)->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK_CAPTURE(WriteKeptOnce, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(WriteKeptOnce, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(WriteKeptOnce, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(AddKeptOnce, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(AddKeptOnce, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(AddKeptOnce, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncodeCollected, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncodeCollected, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncodeCollected, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseIndexEncode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseIndexEncode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseIndexEncode, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncode, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseEncode, 32pct_rice, 0.32, gradcomp::IndexChoice::kRice)
    ->Apply(simulator_sizes);
BENCHMARK_CAPTURE(RandKEncode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(RandKEncode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(RandKEncode, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseDecode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseDecode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseDecode, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(SparseDecode, 32pct_rice, 0.32, gradcomp::IndexChoice::kRice)
    ->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdEncode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdEncode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdEncode, 32pct, 0.32)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdDecode, 0_15pct, 0.0015)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdDecode, 1_2pct, 0.012)->Apply(simulator_sizes);
BENCHMARK_CAPTURE(ThresholdDecode, 32pct, 0.32)->Apply(simulator_sizes);

void split_counts(benchmark::internal::Benchmark* b) {
  for (const std::int64_t kept : {32, 64, 128, 160, 192, 256, 512, 1024, 4096}) b->Arg(kept);
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK_CAPTURE(SplitLayout, 1_2pct_interleaved, 0.012, false)->Apply(split_counts);
BENCHMARK_CAPTURE(SplitLayout, 1_2pct_split, 0.012, true)->Apply(split_counts);
BENCHMARK_CAPTURE(SplitLayout, 0_15pct_interleaved, 0.0015, false)->Apply(split_counts);
BENCHMARK_CAPTURE(SplitLayout, 0_15pct_split, 0.0015, true)->Apply(split_counts);

BENCHMARK_MAIN();
