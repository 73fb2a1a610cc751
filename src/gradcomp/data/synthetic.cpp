#include "gradcomp/data/synthetic.hpp"

#include <fmt/format.h>

#include <cmath>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

namespace {

ParamSpec count(const char* name, const char* def, const char* help, double max = 1e8) {
  return int_param(name, def, 1, max, help);
}

RandomStream stream_for(std::uint64_t seed, std::uint32_t what) {
  return RandomStream(seed, Purpose::kData, 0, what, kSharedWorker);
}

Dataset start(std::string name, std::size_t samples, std::size_t features, std::size_t classes) {
  Dataset d;
  d.name = std::move(name);
  d.samples = samples;
  d.features = features;
  d.classes = classes;
  d.shape = {features};
  d.dense.assign(samples * features, 0.0F);
  d.labels.assign(samples, 0.0F);
  return d;
}

Dataset madelon(const Params& p, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(p.integer("samples"));
  const auto d = static_cast<std::size_t>(p.integer("features"));
  const auto informative = static_cast<std::size_t>(p.integer("informative"));
  const auto redundant = static_cast<std::size_t>(p.integer("redundant"));
  require(informative + redundant <= d && informative <= 30,
          "madelon: informative ({}) + redundant ({}) must fit in {} features, informative <= 30",
          informative, redundant, d);
  const double separation = p.real("separation");
  const double flip = p.real("flip");
  Dataset data = start(p.canonical(), n, d, 2);
  RandomStream rng = stream_for(seed, 1);
  // Two clusters per class, each at a random hypercube vertex with a random linear covariance.
  const std::size_t clusters = 4;
  std::vector<std::vector<double>> centers(clusters, std::vector<double>(informative));
  std::vector<std::vector<double>> transforms(clusters,
                                              std::vector<double>(informative * informative));
  for (std::size_t c = 0; c < clusters; ++c) {
    for (double& v : centers[c]) v = (rng.below(2) == 0 ? -1.0 : 1.0) * separation;
    for (double& v : transforms[c]) v = 2 * rng.uniform() - 1;
  }
  std::vector<double> mixing(informative * redundant);
  for (double& v : mixing) v = 2 * rng.uniform() - 1;
  std::vector<double> z(informative), point(informative);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % clusters;
    for (double& v : z) v = rng.normal();
    for (std::size_t a = 0; a < informative; ++a) {
      double s = centers[c][a];
      for (std::size_t b = 0; b < informative; ++b) s += transforms[c][a * informative + b] * z[b];
      point[a] = s;
    }
    float* row = data.dense.data() + i * d;
    for (std::size_t a = 0; a < informative; ++a) row[a] = static_cast<float>(point[a]);
    for (std::size_t r = 0; r < redundant; ++r) {
      double s = 0;
      for (std::size_t a = 0; a < informative; ++a) s += mixing[r * informative + a] * point[a];
      row[informative + r] = static_cast<float>(s);
    }
    for (std::size_t k = informative + redundant; k < d; ++k)
      row[k] = static_cast<float>(rng.normal());
    const bool positive = c % 2 == 1;
    data.labels[i] = (rng.uniform() < flip) != positive ? 1.0F : 0.0F;
  }
  return data;
}

Dataset least_squares(const Params& p, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(p.integer("samples"));
  const auto d = static_cast<std::size_t>(p.integer("features"));
  const auto groups = static_cast<std::size_t>(p.integer("groups"));
  const double noise = p.real("noise");
  const double zeta = p.real("dissimilarity");
  Dataset data = start(p.canonical(), n, d, 0);
  RandomStream rng = stream_for(seed, 2);
  std::vector<double> optimum(d);
  for (double& v : optimum) v = rng.normal();
  std::vector<std::vector<double>> shifts(groups, std::vector<double>(d));
  for (auto& shift : shifts) {
    for (double& v : shift) v = rng.normal();
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t g = i * groups / n;  // contiguous blocks
    double target = 0;
    for (std::size_t k = 0; k < d; ++k) {
      const double a = rng.normal();
      data.dense[i * d + k] = static_cast<float>(a);
      target += a * (optimum[k] + zeta * shifts[g][k]);
    }
    data.labels[i] = static_cast<float>(target + noise * rng.normal());
  }
  return data;
}

Dataset logistic(const Params& p, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(p.integer("samples"));
  const auto d = static_cast<std::size_t>(p.integer("features"));
  const double condition = p.real("condition");
  const double noise = p.real("noise");
  Dataset data = start(p.canonical(), n, d, 2);
  RandomStream rng = stream_for(seed, 3);
  std::vector<double> scale(d), truth(d);
  for (std::size_t k = 0; k < d; ++k) {
    // Covariance eigenvalues from 1 down to 1/condition, geometrically.
    const double fraction = d > 1 ? static_cast<double>(k) / static_cast<double>(d - 1) : 0;
    scale[k] = std::pow(condition, -0.5 * fraction);
    truth[k] = rng.normal();
  }
  for (std::size_t i = 0; i < n; ++i) {
    double margin = 0;
    for (std::size_t k = 0; k < d; ++k) {
      const double a = scale[k] * rng.normal();
      data.dense[i * d + k] = static_cast<float>(a);
      margin += a * truth[k];
    }
    data.labels[i] = margin + noise * rng.normal() >= 0 ? 1.0F : 0.0F;
  }
  return data;
}

struct Generator {
  const char* name;
  std::vector<ParamSpec> params;
  Dataset (*make)(const Params&, std::uint64_t);
};

std::vector<Generator> generators() {
  return {
      {"madelon",
       {count("samples", "2600", "number of samples"), count("features", "500", "features"),
        count("informative", "5", "informative features"),
        int_param("redundant", "15", 0, 1e6, "linear combinations of the informative ones"),
        real_param("separation", "1", 0, 1e6, "half the side of the hypercube"),
        real_param("flip", "0.01", 0, 1, "fraction of labels flipped at random")},
       madelon},
      {"least-squares",
       {count("samples", "4000", "number of samples"), count("features", "50", "features"),
        real_param("noise", "0.1", 0, 1e6, "sigma of the target noise"),
        real_param("dissimilarity", "1", 0, 1e6, "zeta: scale of each group's optimum shift"),
        count("groups", "8", "groups of contiguous samples with their own optimum", 1e6)},
       least_squares},
      {"logistic",
       {count("samples", "4000", "number of samples"), count("features", "50", "features"),
        real_param("condition", "100", 1, 1e12, "condition number of the feature covariance"),
        real_param("noise", "0.1", 0, 1e6, "sigma of the margin noise")},
       logistic},
  };
}

}  // namespace

Dataset generate_dataset(std::string_view spec, std::uint64_t seed) {
  const std::size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  for (const auto& g : generators()) {
    if (name != g.name) continue;
    const Params params = Params::parse(
        name, colon == std::string_view::npos ? "" : spec.substr(colon + 1), g.params);
    Dataset data = g.make(params, seed);
    data.check();
    return data;
  }
  throw InvalidInput(fmt::format(
      "unknown data generator '{}'; generators: madelon, least-squares, logistic", name));
}

}  // namespace gradcomp
