// The analytic objectives (docs/architecture.md, model/): ℓ2-regularised logistic regression
// ([HardThreshold] eq 31, docs/reproduction.md §5.1), least squares and softmax regression, dense
// or sparse, computed in double.
//   logistic:l2=auto       labels 0/1 → y = ±1; f = mean log(1 + exp(−y aᵀx)) + (μ/2)‖x‖²;
//                          L = λ_max(AᵀA)/(4N) + μ; l2=auto: μ = 1e-4·λ_max(AᵀA)/(4N) (§5.1)
//   least-squares:l2=0     f = mean ½(aᵀx − y)² + (μ/2)‖x‖²;  L = λ_max(AᵀA)/N + μ
//   softmax:l2=0           K classes, W (K × d) and b (K): mean cross-entropy + (μ/2)‖W‖²
#include "gradcomp/model/linear_objectives.hpp"

#include <algorithm>
#include <cmath>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/prefetch.hpp"
#include "gradcomp/model/gram_eigenvalue.hpp"
#include "gradcomp/model/rows.hpp"

namespace gradcomp {

namespace {

double sigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}
// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

template <class T>
double squared_norm(std::span<const T> x, std::size_t begin, std::size_t end) {
  double s = 0;
  for (std::size_t j = begin; j < end; ++j)
    s += static_cast<double>(x[j]) * static_cast<double>(x[j]);
  return s;
}

}  // namespace

template <class T>
LinearObjective<T>::LinearObjective(Kind kind, const Dataset& train, std::string spec, double l2,
                                    bool l2_auto)
    : kind_(kind), spec_(std::move(spec)), features_(train.features) {
  if (kind_ == Kind::kSoftmax) {
    require(train.classes >= 2, "softmax needs class labels; '{}' has none", train.name);
    classes_ = train.classes;
    layout_ = Layout({{"weight", 0, classes_ * features_, {classes_, features_}},
                      {"bias", classes_ * features_, classes_, {classes_}}});
  } else {
    if (kind_ == Kind::kLogistic) {
      require(train.classes == 2,
              "logistic regression needs two classes; '{}' has {} (use softmax for more)",
              train.name, train.classes);
    }
    layout_ = Layout({{"weight", 0, features_, {features_}}});
  }
  if (kind_ != Kind::kSoftmax) {
    const double per_sample = cached_gram_eigenvalue(train) / static_cast<double>(train.samples);
    const double curvature = kind_ == Kind::kLogistic ? per_sample / 4 : per_sample;
    l2_ = l2_auto ? 1e-4 * curvature : l2;
    smoothness_ = curvature + l2_;
  } else {
    l2_ = l2;
  }
}

template <class T>
void LinearObjective<T>::initialize(std::span<T> x, std::uint64_t) {
  std::fill(x.begin(), x.end(), T{0});
}

template <class T>
double LinearObjective<T>::loss_and_gradient(std::span<const T> x, const Dataset& data,
                                             std::span<const std::size_t> samples,
                                             std::span<T> gradient) {
  return fill_gradient(x, data, samples, gradient, true, {});
}

template <class T>
bool LinearObjective<T>::gradient(std::span<const T> x, const Dataset& data,
                                  std::span<const std::size_t> samples, std::span<T> gradient,
                                  std::span<const std::size_t> upcoming) {
  bool seen_finite = false;
  fill_gradient(x, data, samples, gradient, false, upcoming, &seen_finite);
  return seen_finite;
}

// fill_dense_gradient's batch of one at x − κe: the same row product (with the next batch's row
// fetched meanwhile) and the same gradient pass, so the same bits as at the point written out.
template <class T>
bool LinearObjective<T>::gradient_at(const DetachedPoint<T>& point, const Dataset& data,
                                     std::span<const std::size_t> samples, std::span<T> gradient,
                                     std::span<const std::size_t> upcoming) {
  if (!one_dense_row(point, data, samples, gradient.size())) {
    return Objective<T>::gradient_at(point, data, samples, gradient, upcoming);
  }
  const DetachedRow at = detached_row(point, data, samples[0], upcoming);
  const bool finite =
      elementwise<T>().finish_detached(at.row, at.slope, l2_, point.x.data(), point.kappa,
                                       point.error.data(), gradient.data(), features_);
  prefetch_rows(data, upcoming.first(at.fetched), 1);
  return finite;
}

// Row i's product with the detached point, while the first upcoming row is fetched.
template <class T>
typename LinearObjective<T>::DetachedRow LinearObjective<T>::detached_row(
    const DetachedPoint<T>& point, const Dataset& data, std::size_t i,
    std::span<const std::size_t> upcoming) const {
  const float* row = data.dense.data() + i * features_;
  const std::size_t fetched = rows_to_fetch(data, upcoming);
  const float* ahead = fetched > 0 ? data.dense.data() + upcoming[0] * features_ : nullptr;
  const double dot = elementwise<T>().dot_detached_row(row, point.x.data(), point.kappa,
                                                       point.error.data(), features_, ahead);
  double loss = 0;
  return {row, loss_slope(dot, data.labels[i], 1.0, &loss), fetched};
}

template <class T>
bool LinearObjective<T>::one_dense_row(const DetachedPoint<T>& point, const Dataset& data,
                                       std::span<const std::size_t> samples,
                                       std::size_t size) const {
  return !point.error.empty() && !data.sparse && kind_ != Kind::kSoftmax && samples.size() == 1 &&
         data.features == features_ && size == features_;
}

// gradient_at's row product and slope, then the gradient's pass and DEF's input chunk by chunk
// (ElementwiseKernels::detached_row_input): the d-vector of the gradient is never stored and read
// back, and the input has the bits of gradient_at followed by detached_input.
template <class T>
DetachedInput<T> LinearObjective<T>::detached_input_at(const DetachedPoint<T>& point,
                                                       const Dataset& data,
                                                       std::span<const std::size_t> samples, T w,
                                                       T s, std::span<T> e,
                                                       std::span<const std::size_t> upcoming) {
  if (!one_dense_row(point, data, samples, e.size()) || point.error.data() != e.data()) return {};
  const DetachedRow at = detached_row(point, data, samples[0], upcoming);
  DetachedInput<T> input;
  input.written = true;
  const std::size_t bad =
      elementwise<T>().detached_row_input(at.row, at.slope, l2_, point.x.data(), point.kappa, w, s,
                                          e.data(), features_, &input.bad_value);
  if (bad < features_) input.bad = bad;
  prefetch_rows(data, upcoming.first(at.fetched), 1);
  return input;
}

template <class T>
double LinearObjective<T>::fill_gradient(std::span<const T> x, const Dataset& data,
                                         std::span<const std::size_t> samples,
                                         std::span<T> gradient, bool with_loss,
                                         std::span<const std::size_t> upcoming,
                                         bool* seen_finite) const {
  if (!data.sparse && kind_ != Kind::kSoftmax && !samples.empty() && data.features == features_) {
    return fill_dense_gradient(x, data, samples, gradient, with_loss, upcoming, seen_finite);
  }
  if (seen_finite != nullptr) *seen_finite = false;
  prefetch_rows(data, upcoming, 0);
  // The double accumulator is the thread's own: workers compute their gradients concurrently.
  thread_local std::vector<double> g;
  g.assign(x.size(), 0.0);
  const double loss = accumulate(x, data, samples, &g, nullptr, with_loss);
  const std::size_t weight_end = kind_ == Kind::kSoftmax ? classes_ * features_ : features_;
  for (std::size_t j = 0; j < weight_end; ++j) {
    gradient[j] = static_cast<T>(g[j] + l2_ * static_cast<double>(x[j]));
  }
  for (std::size_t j = weight_end; j < g.size(); ++j) gradient[j] = static_cast<T>(g[j]);
  return loss;
}

template <class T>
double LinearObjective<T>::loss_slope(double z, double label, double scale, double* loss) const {
  if (kind_ == Kind::kLogistic) {
    const double y = label > 0.5 ? 1.0 : -1.0;
    *loss += softplus(-y * z);
    return -scale * y * sigmoid(-y * z);
  }
  const double r = z - label;
  *loss += 0.5 * r * r;
  return scale * r;
}

// Logistic regression and least squares on dense rows: the general path zeroes a double
// accumulator, adds each sample's row into it and converts it with the ℓ2 term, three passes over
// d; here the first sample's pass writes the accumulator and the last one's writes the gradient
// (one pass with batch 1). The additions are the general path's, in its order (0.0 + s·a_ij
// included: it turns −0 into +0), so both give the same bits.
template <class T>
double LinearObjective<T>::fill_dense_gradient(std::span<const T> x, const Dataset& data,
                                               std::span<const std::size_t> samples,
                                               std::span<T> gradient, bool with_loss,
                                               std::span<const std::size_t> upcoming,
                                               bool* seen_finite) const {
  const double scale = 1.0 / static_cast<double>(samples.size());
  thread_local std::vector<double> g;
  if (samples.size() > 1) g.resize(features_);
  const ElementwiseKernels<T>& kernels = elementwise<T>();
  double loss = 0;
  // Sample k's row product fetches the next batch's k-th row (up to ~64 KiB of them).
  const std::size_t fetched = rows_to_fetch(data, upcoming);
  for (std::size_t k = 0; k < samples.size(); ++k) {
    const std::size_t i = samples[k];
    const float* row = data.dense.data() + i * features_;
    const double dot = k < fetched
                           ? kernels.dot_row_ahead(row, x.data(), features_,
                                                   data.dense.data() + upcoming[k] * features_)
                           : row_dot(data, i, x);
    const double slope = loss_slope(dot, data.labels[i], scale, &loss);
    if (k + 1 == samples.size()) {
      const bool finite = kernels.finish_gradient(k == 0 ? nullptr : g.data(), row, slope, l2_,
                                                  x.data(), gradient.data(), features_);
      // The whole gradient is the row's features (no bias in these models' layout).
      if (seen_finite != nullptr) *seen_finite = finite && gradient.size() == features_;
    } else if (k == 0) {
      kernels.start_sum(row, slope, g.data(), features_);
    } else {
      kernels.add_to_sum(row, slope, g.data(), features_);
    }
  }
  prefetch_rows(data, upcoming.first(fetched), samples.size());
  if (!with_loss) return scale * loss;
  return scale * loss + 0.5 * l2_ * squared_norm(x, 0, features_);
}

// The first rows of a batch, up to 64 KiB (about what a core's L2 holds for the coming worker
// besides the current one); a sparse row is short and read once.
template <class T>
std::size_t LinearObjective<T>::rows_to_fetch(const Dataset& data,
                                              std::span<const std::size_t> upcoming) const {
  if (data.sparse || data.features != features_) return 0;
  constexpr std::size_t kBudget = std::size_t{64} << 10;
  return std::min(upcoming.size(), kBudget / (features_ * sizeof(float) + 1));
}

template <class T>
void LinearObjective<T>::prefetch_rows(const Dataset& data, std::span<const std::size_t> upcoming,
                                       std::size_t first) const {
  const std::size_t rows = rows_to_fetch(data, upcoming);
  for (std::size_t k = first; k < rows; ++k) {
    const auto* row = reinterpret_cast<const char*>(data.dense.data() + upcoming[k] * features_);
    for (std::size_t byte = 0; byte < features_ * sizeof(float); byte += kCacheLine) {
      __builtin_prefetch(row + byte, 0, 2);
    }
  }
}

template <class T>
Evaluation LinearObjective<T>::evaluate(std::span<const T> x, const Dataset& data) {
  std::vector<std::size_t> all(data.samples);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::size_t correct = 0;
  Evaluation e;
  e.loss = accumulate(x, data, all, nullptr, &correct);
  if (kind_ != Kind::kLeastSquares) {
    e.accuracy = static_cast<double>(correct) / static_cast<double>(data.samples);
  }
  return e;
}

// Mean loss (with the ℓ2 term) over `samples`; adds the mean data gradient into *gradient and
// counts correct predictions into *correct when given.
template <class T>
double LinearObjective<T>::accumulate(std::span<const T> x, const Dataset& data,
                                      std::span<const std::size_t> samples,
                                      std::vector<double>* gradient, std::size_t* correct,
                                      bool with_loss) const {
  require(data.features == features_, "{}: the data has {} features, the model {}", spec_,
          data.features, features_);
  const double scale = 1.0 / static_cast<double>(samples.size());
  double loss = 0;
  std::vector<double> logits(classes_);
  for (const std::size_t i : samples) {
    const double label = data.labels[i];
    if (kind_ == Kind::kSoftmax) {
      for (std::size_t k = 0; k < classes_; ++k) {
        logits[k] =
            row_dot(data, i, x, k * features_) + static_cast<double>(x[classes_ * features_ + k]);
      }
      const double top = *std::max_element(logits.begin(), logits.end());
      double total = 0;
      for (const double z : logits) total += std::exp(z - top);
      const auto y = static_cast<std::size_t>(label);
      loss += top + std::log(total) - logits[y];
      if (correct != nullptr) {
        *correct += static_cast<std::size_t>(std::max_element(logits.begin(), logits.end()) -
                                             logits.begin()) == y;
      }
      if (gradient != nullptr) {
        for (std::size_t k = 0; k < classes_; ++k) {
          const double p = std::exp(logits[k] - top) / total - (k == y ? 1.0 : 0.0);
          row_axpy(data, i, scale * p, *gradient, k * features_);
          (*gradient)[classes_ * features_ + k] += scale * p;
        }
      }
      continue;
    }
    const double z = row_dot(data, i, x);
    if (correct != nullptr && kind_ == Kind::kLogistic) *correct += (z >= 0) == (label > 0.5);
    const double slope = loss_slope(z, label, scale, &loss);
    if (gradient != nullptr) row_axpy(data, i, slope, *gradient);
  }
  const std::size_t weight_end = kind_ == Kind::kSoftmax ? classes_ * features_ : features_;
  if (!with_loss) return scale * loss;
  return scale * loss + 0.5 * l2_ * squared_norm(x, 0, weight_end);
}

template class LinearObjective<float>;
template class LinearObjective<double>;

}  // namespace gradcomp
