#include "gradcomp/data/partition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

RandomStream stream_for(std::uint64_t seed, std::uint32_t what) {
  return RandomStream(seed, Purpose::kPartition, 0, what, kSharedWorker);
}

void shuffle(std::vector<std::size_t>& v, RandomStream& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

Shards cut(const std::vector<std::size_t>& order, std::size_t parts) {
  Shards shards(parts);
  for (std::size_t w = 0; w < parts; ++w) {
    const std::size_t begin = w * order.size() / parts;
    const std::size_t end = (w + 1) * order.size() / parts;
    shards[w].assign(order.begin() + static_cast<std::ptrdiff_t>(begin),
                     order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return shards;
}

std::vector<std::size_t> by_label(const Dataset& data) {
  std::vector<std::size_t> order(data.samples);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return data.labels[a] < data.labels[b]; });
  return order;
}

// Worker w holds the classes (w·c + k) mod K, k < c; each class is split evenly over the workers
// that hold it, in a seeded order.
Shards label_skew(const Dataset& data, std::size_t workers, std::size_t classes_per_worker,
                  std::uint64_t seed) {
  const std::size_t classes = data.classes;
  std::vector<std::vector<std::size_t>> holders(classes);
  for (std::size_t w = 0; w < workers; ++w) {
    for (std::size_t k = 0; k < std::min(classes_per_worker, classes); ++k) {
      holders[(w * classes_per_worker + k) % classes].push_back(w);
    }
  }
  std::vector<std::vector<std::size_t>> members(classes);
  for (std::size_t i = 0; i < data.samples; ++i) {
    members[static_cast<std::size_t>(data.labels[i])].push_back(i);
  }
  RandomStream rng = stream_for(seed, 3);
  Shards shards(workers);
  for (std::size_t c = 0; c < classes; ++c) {
    if (holders[c].empty()) continue;
    shuffle(members[c], rng);
    const Shards parts = cut(members[c], holders[c].size());
    for (std::size_t h = 0; h < parts.size(); ++h) {
      auto& shard = shards[holders[c][h]];
      shard.insert(shard.end(), parts[h].begin(), parts[h].end());
    }
  }
  return shards;
}

// Marsaglia–Tsang Gamma(a, 1); for a < 1 through Gamma(a + 1)·U^{1/a}.
double gamma_draw(double a, RandomStream& rng) {
  if (a < 1) return gamma_draw(a + 1, rng) * std::pow(rng.uniform() + 1e-300, 1 / a);
  const double d = a - 1.0 / 3;
  const double c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x = 0;
    double v = 0;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = rng.uniform();
    if (std::log(u + 1e-300) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

Shards dirichlet(const Dataset& data, std::size_t workers, double alpha, std::uint64_t seed) {
  RandomStream rng = stream_for(seed, 2);
  const std::vector<std::size_t> order = by_label(data);
  Shards shards(workers);
  std::size_t begin = 0;
  while (begin < order.size()) {
    std::size_t end = begin;
    while (end < order.size() && data.labels[order[end]] == data.labels[order[begin]]) ++end;
    std::vector<std::size_t> members(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                     order.begin() + static_cast<std::ptrdiff_t>(end));
    shuffle(members, rng);
    std::vector<double> share(workers);
    double total = 0;
    for (double& s : share) total += (s = gamma_draw(alpha, rng));
    double cumulative = 0;
    std::size_t taken = 0;
    for (std::size_t w = 0; w < workers; ++w) {
      cumulative += share[w] / total;
      const auto until = w + 1 == workers ? members.size()
                                          : static_cast<std::size_t>(std::floor(
                                                cumulative * static_cast<double>(members.size())));
      for (; taken < until; ++taken) shards[w].push_back(members[taken]);
    }
    begin = end;
  }
  return shards;
}

}  // namespace

Shards partition(const Dataset& data, std::size_t workers, std::string_view spec,
                 std::uint64_t seed) {
  const std::size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  const std::string_view rest = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  // Before anything is allocated per worker (a billion workers once took minutes and 23 GB to
  // reach the empty-shard error below).
  require(workers <= data.samples,
          "{} workers but '{}' has {} training samples; every worker needs at least one: choose "
          "workers.n ≤ {}",
          workers, data.name, data.samples, data.samples);
  Shards shards;
  if (name == "iid") {
    Params::parse(name, rest, {});
    std::vector<std::size_t> order(data.samples);
    std::iota(order.begin(), order.end(), 0);
    RandomStream rng = stream_for(seed, 1);
    shuffle(order, rng);
    shards = cut(order, workers);
  } else if (name == "contiguous") {
    Params::parse(name, rest, {});
    std::vector<std::size_t> order(data.samples);
    std::iota(order.begin(), order.end(), 0);
    shards = cut(order, workers);
  } else if (name == "label-skew") {
    const Params p =
        Params::parse(name, rest, {int_param("classes", "2", 1, 1e6, "classes per worker")});
    require(data.classes > 0, "partition label-skew needs class labels; '{}' is a regression set",
            data.name);
    require(static_cast<std::size_t>(p.integer("classes")) <= data.classes,
            "partition {}: {} classes per worker, but '{}' has {} classes; choose classes ≤ {}",
            spec, p.integer("classes"), data.name, data.classes, data.classes);
    shards = label_skew(data, workers, static_cast<std::size_t>(p.integer("classes")), seed);
  } else if (name == "dirichlet") {
    const Params p = Params::parse(
        name, rest, {real_param("alpha", "0.5", 0, 1e6, "concentration: small = skewed", true)});
    require(data.classes > 0, "partition dirichlet needs class labels; '{}' is a regression set",
            data.name);
    shards = dirichlet(data, workers, p.real("alpha"), seed);
  } else {
    throw InvalidInput(
        fmt::format("unknown partition '{}'; partitions: iid, contiguous, label-skew:classes=c, "
                    "dirichlet:alpha=a",
                    name));
  }
  for (std::size_t w = 0; w < workers; ++w) {
    require(!shards[w].empty(),
            "partition {} leaves worker {} without samples ({} samples, {} workers); use fewer "
            "workers, more data or a less skewed partition",
            spec, w, data.samples, workers);
  }
  return shards;
}

}  // namespace gradcomp
