// The objectives (model/): analytic gradients against central differences, [HardThreshold]'s
// constants, and the libtorch networks' flat-buffer views (gradients land where the layout says).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "gradcomp/core/error.hpp"
#include "gradcomp/data/synthetic.hpp"
#include "gradcomp/model/gram_eigenvalue.hpp"
#include "gradcomp/model/linear_objectives.hpp"
#include "gradcomp/model/optimum.hpp"
#include "gradcomp/model/registry.hpp"
#include "gradcomp/model/rows.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

template <class T>
double gradient_check(Objective<T>& objective, const Dataset& data, std::span<const T> x, double h,
                      std::size_t from = 0) {
  std::vector<std::size_t> samples(data.samples);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = i;
  std::vector<T> g(x.size());
  objective.loss_and_gradient(x, data, samples, g);
  std::vector<T> probe(x.begin(), x.end());
  std::vector<T> scratch(x.size());
  double worst = 0;
  for (std::size_t j = from; j < x.size(); j += std::max<std::size_t>(1, (x.size() - from) / 40)) {
    const T saved = probe[j];
    probe[j] = saved + static_cast<T>(h);
    const double up = objective.loss_and_gradient(probe, data, samples, scratch);
    probe[j] = saved - static_cast<T>(h);
    const double down = objective.loss_and_gradient(probe, data, samples, scratch);
    probe[j] = saved;
    const double numeric = (up - down) / (2 * h);
    worst = std::max(
        worst, std::abs(numeric - static_cast<double>(g[j])) / std::max(1e-3, std::abs(numeric)));
  }
  return worst;
}

TEST(LinearObjectives, GradientsMatchCentralDifferences) {
  const Dataset classes =
      generate_dataset("madelon:samples=60,features=12,informative=3,redundant=2", 2);
  const Dataset targets = generate_dataset("least-squares:samples=60,features=12,groups=2", 2);
  for (const std::string spec : {"logistic:l2=0.01", "softmax:l2=0.01", "logistic"}) {
    auto objective = make_objective<double>(spec, classes, 1);
    const auto x = testing::gaussian_vector<double>(objective->layout().total_size(), 5);
    EXPECT_LT(gradient_check<double>(*objective, classes, x, 1e-6), 1e-6) << spec;
  }
  auto ls = make_objective<double>("least-squares:l2=0.1", targets, 1);
  const auto x = testing::gaussian_vector<double>(12, 5);
  EXPECT_LT(gradient_check<double>(*ls, targets, x, 1e-6), 1e-6);
}

// The same rows stored as CSR: the sparse path (a double accumulator, then the conversion).
Dataset as_csr(const Dataset& dense) {
  Dataset csr = dense;
  csr.dense.clear();
  csr.sparse = true;
  csr.row_offsets = {0};
  for (std::size_t i = 0; i < dense.samples; ++i) {
    for (std::size_t j = 0; j < dense.features; ++j) {
      csr.columns.push_back(static_cast<std::uint32_t>(j));
      csr.values.push_back(dense.dense[i * dense.features + j]);
    }
    csr.row_offsets.push_back(csr.values.size());
  }
  return csr;
}

// The dense models' one-pass gradient (first sample writes the accumulator, the last writes the
// result) against the general accumulate-then-convert path on the same rows in CSR, for batches
// of 1, 2 and 5 with repeated samples; gradient() and loss_and_gradient() agree bit for bit,
// whether gradient() fetches no upcoming rows, fewer rows than its batch or more.
TEST(LinearObjectives, DenseOnePassGradientEqualsTheAccumulatorPath) {
  const Dataset classes =
      generate_dataset("madelon:samples=30,features=21,informative=3,redundant=2", 2);
  const Dataset targets = generate_dataset("least-squares:samples=30,features=21,groups=2", 2);
  const std::vector<std::vector<std::size_t>> batches = {{7}, {3, 29}, {4, 0, 4, 18, 11}};
  for (const auto& [spec, data] :
       {std::pair<std::string, const Dataset*>{"logistic:l2=0.01", &classes},
        {"least-squares:l2=0.1", &targets}}) {
    const Dataset csr = as_csr(*data);
    auto objective = make_objective<float>(spec, *data, 1);
    const auto x = testing::gaussian_vector<float>(21, 6);
    for (const auto& batch : batches) {
      std::vector<float> dense(21), sparse(21), no_loss(21);
      const double loss = objective->loss_and_gradient(x, *data, batch, dense);
      const double sparse_loss = objective->loss_and_gradient(x, csr, batch, sparse);
      EXPECT_NEAR(loss, sparse_loss, 1e-12 * std::abs(sparse_loss)) << spec;
      for (const auto& upcoming : std::vector<std::vector<std::size_t>>{{}, {9}, {1, 2, 3, 5}}) {
        // The dense path sees its finite gradient finite (the trainer then skips its scan).
        EXPECT_TRUE(objective->gradient(x, *data, batch, no_loss, upcoming)) << spec;
        EXPECT_EQ(dense, no_loss) << spec << ", " << upcoming.size() << " upcoming";
      }
      for (std::size_t j = 0; j < 21; ++j) {
        EXPECT_NEAR(dense[j], sparse[j], 1e-6 * std::abs(sparse[j]) + 1e-12)
            << spec << " batch of " << batch.size() << ", coordinate " << j;
      }
    }
  }
}

// The gradient at a point given as x − κe (DEF's detached point, never written out) has the bits
// of the gradient at the point written out: the linear models' one-row dense path (which takes z
// as it reads it), and every other case through the default (batches of several rows, CSR rows),
// with and without a row to fetch ahead; and the dense path says whether it is finite.
template <class T>
void check_gradient_at(const std::string& spec, const Dataset& data) {
  auto objective = make_objective<T>(spec, data, 1);
  const auto x = testing::gaussian_vector<T>(21, 6);
  const auto error = testing::gaussian_vector<T>(21, 8);
  const T kappa = static_cast<T>(0.3);
  std::vector<T> z(21);
  for (std::size_t j = 0; j < 21; ++j) z[j] = x[j] - kappa * error[j];
  const DetachedPoint<T> point{x, kappa, error};
  for (const auto& batch : std::vector<std::vector<std::size_t>>{{7}, {3, 29}, {4, 0, 4}}) {
    for (const auto& upcoming : std::vector<std::vector<std::size_t>>{{}, {9}}) {
      for (const Dataset* rows : {&data, static_cast<const Dataset*>(nullptr)}) {
        const Dataset csr = as_csr(data);
        const Dataset& used = rows != nullptr ? *rows : csr;
        std::vector<T> at_point(21), expected(21);
        const bool seen = objective->gradient_at(point, used, batch, at_point, upcoming);
        EXPECT_EQ(seen, objective->gradient(z, used, batch, expected, upcoming));
        EXPECT_EQ(at_point, expected)
            << spec << ", batch of " << batch.size() << (rows != nullptr ? ", dense" : ", csr");
      }
    }
  }
  // An infinity in the error reaches the gradient through the ℓ2 term: not seen finite.
  auto bad = error;
  bad[13] = -std::numeric_limits<T>::infinity();
  std::vector<T> g(21);
  const std::vector<std::size_t> one = {7};
  EXPECT_FALSE(objective->gradient_at({x, kappa, bad}, data, one, g, {})) << spec;
  EXPECT_TRUE(std::isinf(g[13])) << spec;
}

// DEF's input formed while the gradient is computed (detached_input_at) has the bits of the
// gradient at the detached point followed by detached_input, on the one-row dense path; elsewhere
// (batches of several rows, CSR rows) the objective declines and leaves e as it was. A gradient
// element that is not finite is reported with its index and value.
template <class T>
void check_detached_input_at(const std::string& spec, const Dataset& data) {
  auto objective = make_objective<T>(spec, data, 1);
  const auto x = testing::gaussian_vector<T>(21, 6);
  const auto error = testing::gaussian_vector<T>(21, 8);
  const T kappa = static_cast<T>(0.3), w = static_cast<T>(1e-3), s = static_cast<T>(0.7);
  const Dataset csr = as_csr(data);
  for (const auto& batch : std::vector<std::vector<std::size_t>>{{7}, {3, 29}}) {
    for (const auto& upcoming : std::vector<std::vector<std::size_t>>{{}, {9}}) {
      for (const Dataset* used : {&data, &csr}) {
        std::vector<T> e = error;
        const DetachedInput<T> input =
            objective->detached_input_at({x, kappa, e}, *used, batch, w, s, e, upcoming);
        const bool one_row = batch.size() == 1 && used == &data;
        EXPECT_EQ(input.written, one_row) << spec << ", batch of " << batch.size();
        EXPECT_FALSE(input.bad.has_value()) << spec;
        std::vector<T> expected = error;
        if (one_row) {
          std::vector<T> g(21);
          objective->gradient_at({x, kappa, error}, *used, batch, g, upcoming);
          elementwise<T>().detached_input(g.data(), w, x.data(), kappa, s, expected.data(), 21);
        }
        EXPECT_EQ(e, expected) << spec << ", batch of " << batch.size()
                               << (used == &data ? ", dense" : ", csr");
      }
    }
  }
  // An infinity in the error: the gradient's first element that is not finite (13 through the ℓ2
  // term for logistic regression; 0 for least squares, whose residual is then infinite).
  auto bad = error;
  bad[13] = -std::numeric_limits<T>::infinity();
  const std::vector<std::size_t> one = {7};
  std::vector<T> g(21);
  objective->gradient_at({x, kappa, bad}, data, one, g, {});
  const std::size_t first =
      std::find_if(g.begin(), g.end(), [](T v) { return !std::isfinite(v); }) - g.begin();
  ASSERT_LT(first, 21U) << spec;
  const DetachedInput<T> input =
      objective->detached_input_at({x, kappa, bad}, data, one, w, s, bad, {});
  ASSERT_TRUE(input.bad.has_value()) << spec;
  EXPECT_EQ(*input.bad, first) << spec;
  EXPECT_EQ(std::memcmp(&input.bad_value, &g[first], sizeof(T)), 0) << spec;  // NaN or infinity
}

TEST(LinearObjectives, GradientAndInputAtADetachedPointHaveTheBitsOfThePointWrittenOut) {
  const Dataset classes =
      generate_dataset("madelon:samples=30,features=21,informative=3,redundant=2", 2);
  const Dataset targets = generate_dataset("least-squares:samples=30,features=21,groups=2", 2);
  check_gradient_at<float>("logistic:l2=0.01", classes);
  check_gradient_at<double>("logistic:l2=0.01", classes);
  check_gradient_at<float>("least-squares:l2=0.1", targets);
  check_gradient_at<double>("least-squares:l2=0.1", targets);
  check_detached_input_at<float>("logistic:l2=0.01", classes);
  check_detached_input_at<double>("logistic:l2=0.01", classes);
  check_detached_input_at<float>("least-squares:l2=0.1", targets);
  check_detached_input_at<double>("least-squares:l2=0.1", targets);
}

// The dense path says whether the gradient it wrote is finite, and never calls a gradient with a
// NaN or an infinity finite: at a point with an infinity (the ℓ2 term's μ·x), and where
// (s·a + μ·x) is finite in double but beyond float's range. The general (sparse) path says
// nothing (false): the trainer scans its gradient.
TEST(LinearObjectives, TheDenseGradientSaysWhetherItIsFinite) {
  const Dataset data =
      generate_dataset("madelon:samples=30,features=21,informative=3,redundant=2", 2);
  auto objective = make_objective<float>("logistic:l2=0.5", data, 1);
  const std::vector<std::size_t> one = {7}, three = {3, 29, 3};
  std::vector<float> g(21);
  auto x = testing::gaussian_vector<float>(21, 6);
  EXPECT_TRUE(objective->gradient(x, data, one, g, {}));
  EXPECT_TRUE(objective->gradient(x, data, three, g, {}));
  EXPECT_FALSE(objective->gradient(x, as_csr(data), one, g, {}));
  for (const float bad :
       {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN()}) {
    for (const std::size_t at : {0UL, 13UL, 20UL}) {
      auto point = x;
      point[at] = bad;
      EXPECT_FALSE(objective->gradient(point, data, one, g, {})) << bad << " at " << at;
      EXPECT_FALSE(objective->gradient(point, data, three, g, {})) << bad << " at " << at;
    }
  }
  // μ·x = 0.5 · 3.4e38 plus s·a: finite in double, rounded to float it is FLT_MAX or infinity,
  // the sign of s·a decides; both signs of x make one of them overflow somewhere in the row.
  auto huge = x;
  for (std::size_t j = 0; j < 21; ++j)
    huge[j] = (j % 2 == 0 ? 1 : -1) * std::numeric_limits<float>::max();
  auto objective_one = make_objective<float>("logistic:l2=1", data, 1);
  std::vector<float> h(21);
  const bool finite = objective_one->gradient(huge, data, one, h, {});
  bool all_finite = true;
  for (const float v : h) all_finite = all_finite && std::isfinite(v);
  EXPECT_EQ(finite, all_finite);
}

TEST(LinearObjectives, S004Constants) {
  const Dataset data =
      generate_dataset("madelon:samples=80,features=10,informative=3,redundant=2", 4);
  auto objective = make_objective<double>("logistic", data, 1);
  const double curvature = largest_gram_eigenvalue(data) / (4.0 * 80);
  EXPECT_NEAR(objective->strong_convexity(), 1e-4 * curvature, 1e-15 * curvature);
  EXPECT_NEAR(objective->smoothness(), curvature * (1 + 1e-4), 1e-12 * curvature);
  // f(0) = log 2 for logistic regression.
  const std::vector<double> zero(10, 0.0);
  EXPECT_NEAR(objective->evaluate(zero, data).loss, std::log(2.0), 1e-15);
  // λ_max by power iteration against the Rayleigh quotient of a random vector (a lower bound).
  const auto v = testing::gaussian_vector<double>(10, 9);
  double quotient = 0;
  for (std::size_t i = 0; i < data.samples; ++i) {
    const double r = row_dot<double>(data, i, v);
    quotient += r * r;
  }
  EXPECT_GE(largest_gram_eigenvalue(data) * (1 + 1e-9),
            quotient / testing::squared_norm<double>(v));
}

// λ_max is cached by the data's content: the second call reads the file (planted here with
// another value to prove it), other data gets its own entry.
TEST(LinearObjectives, GramEigenvalueIsCachedByTheDataContents) {
  const auto directory = testing::scratch_directory() / "gradcomp-gram-cache-test";
  std::filesystem::remove_all(directory);
  const Dataset data =
      generate_dataset("madelon:samples=80,features=10,informative=3,redundant=2", 4);
  const double computed = largest_gram_eigenvalue(data);
  EXPECT_EQ(cached_gram_eigenvalue(data, directory.string()), computed);
  const auto entry = directory / fmt::format("gram-eigenvalue-{:016x}.txt", data.content_hash());
  ASSERT_TRUE(std::filesystem::exists(entry));
  std::ofstream(entry) << "12.5\n";
  EXPECT_EQ(cached_gram_eigenvalue(data, directory.string()), 12.5);
  const Dataset other =
      generate_dataset("madelon:samples=80,features=10,informative=3,redundant=2", 5);
  EXPECT_EQ(cached_gram_eigenvalue(other, directory.string()), largest_gram_eigenvalue(other));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(directory),
                          std::filesystem::directory_iterator()),
            2);
  std::filesystem::remove_all(directory);
}

TEST(TorchObjectives, MlpGradientsLandInTheLayoutAndMatchDifferences) {
  const Dataset data =
      generate_dataset("madelon:samples=40,features=8,informative=3,redundant=2", 3);
  auto mlp = make_objective<float>("mlp:hidden=6", data, 1);
  const Layout& layout = mlp->layout();
  ASSERT_EQ(layout.block_count(), 4U);
  EXPECT_EQ(layout.blocks()[0].name, "0.weight");
  EXPECT_EQ(layout.blocks()[0].shape, (std::vector<std::size_t>{6, 8}));
  EXPECT_EQ(layout.total_size(), 6U * 8 + 6 + 2 * 6 + 2);
  std::vector<float> x(layout.total_size());
  mlp->initialize(x, 1);
  // The loss is smooth in the output layer's weights (no ReLU after them), so central differences
  // in float are accurate there; the first layer's ReLU kinks would make a finite-difference check
  // measure the kinks rather than the plumbing under test.
  EXPECT_LT(gradient_check<float>(*mlp, data, x, 1e-2, layout.blocks()[2].offset), 1e-2);
  try {
    (void)make_objective<double>("mlp", data, 1);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(),
                 "model 'mlp' runs in float; set run.precision = \"float\" (double is "
                 "for the analytic objectives)");
  }
  try {
    (void)make_objective<float>("lenet", data, 1);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()).rfind("lenet needs 1x28x28 images", 0), 0U);
  }
}

}  // namespace
}  // namespace gradcomp

namespace gradcomp {
namespace {

TEST(Optimum, LbfgsReachesTheStationaryPointAndIsCached) {
  const Dataset data = generate_dataset("logistic:samples=300,features=8,condition=50", 6);
  auto objective = make_objective<double>("logistic", data, 1);
  const std::string cache = (testing::scratch_directory() / "gradcomp_optimum_test").string();
  std::filesystem::remove_all(cache);
  const Optimum first = find_optimum(*objective, data, cache);
  EXPECT_FALSE(first.cached);
  EXPECT_LT(first.gradient_norm, 1e-8);
  // No nearby point is lower (strong convexity: f(x* + v) − f* ≥ μ‖v‖²/2 > 0).
  for (std::size_t j = 0; j < 8; ++j) {
    auto x = first.x;
    x[j] += 1e-3;
    EXPECT_GT(objective->evaluate(x, data).loss, first.value) << j;
  }
  const Optimum second = find_optimum(*objective, data, cache);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.value, first.value);
  EXPECT_EQ(second.x, first.x);
}

}  // namespace
}  // namespace gradcomp

namespace gradcomp {
namespace {

// An evaluation runs in chunks (214 images for LeNet: model/torch_model.cpp, evaluation_chunk)
// and covers every image once: its loss is the mean of one forward pass over the whole set, here
// 500 images, two full chunks and a partial one (LeNet has no layer that differs in evaluation).
TEST(TorchObjectives, AChunkedEvaluationIsOneForwardPassOverTheSet) {
  Dataset images =
      generate_dataset("madelon:samples=500,features=784,informative=3,redundant=2", 4);
  images.shape = {1, 28, 28};
  auto net = make_objective<float>("lenet", images, 1);
  std::vector<float> x(net->layout().total_size()), g(x.size());
  net->initialize(x, 1);
  std::vector<std::size_t> all(images.samples);
  std::iota(all.begin(), all.end(), std::size_t{0});
  const double whole = net->loss_and_gradient(x, images, all, g);
  const Evaluation chunked = net->evaluate(x, images);
  EXPECT_NEAR(chunked.loss, whole, 1e-5 * whole);
  // Leaving out the partial chunk (72 of 500 images) would move the mean by 14%.
  EXPECT_GT(whole, 0.5);
}

// docs/algorithms.md §3.6 (vi): after a step, the BatchNorm statistics are the mean of what each
// worker's forward pass made of the step's common statistics.
TEST(TorchObjectives, BatchNormStatisticsAreAveragedOverTheStepsWorkers) {
  Dataset images = generate_dataset("madelon:samples=64,features=784,informative=3,redundant=2", 2);
  images.shape = {1, 28, 28};
  std::vector<std::size_t> a(16), b(16);
  for (std::size_t i = 0; i < 16; ++i) {
    a[i] = i;
    b[i] = 32 + i;
  }
  auto statistics_after = [&](const std::vector<std::vector<std::size_t>>& batches) {
    auto net = make_objective<float>("resnet:width=4", images, 1);
    std::vector<float> x(net->layout().total_size()), g(x.size());
    net->initialize(x, 1);
    net->begin_step();
    for (const auto& batch : batches) net->loss_and_gradient(x, images, batch, g);
    net->end_step();
    std::vector<float> all;
    for (const auto& s : net->statistics()) all.insert(all.end(), s.data.begin(), s.data.end());
    return all;
  };
  const auto only_a = statistics_after({a});
  const auto only_b = statistics_after({b});
  const auto both = statistics_after({a, b});
  ASSERT_FALSE(both.empty());
  double worst = 0;
  for (std::size_t i = 0; i < both.size(); ++i) {
    worst =
        std::max(worst, static_cast<double>(std::abs(both[i] - 0.5F * (only_a[i] + only_b[i]))));
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_NE(only_a, only_b);  // the batches differ, so the average is a real test
}

}  // namespace
}  // namespace gradcomp
