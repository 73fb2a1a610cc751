#pragma once
// Logistic regression, least squares and softmax regression (model/linear_objectives.cpp).
#include "gradcomp/model/objective.hpp"

namespace gradcomp {

template <class T>
class LinearObjective final : public Objective<T> {
 public:
  enum class Kind { kLogistic, kLeastSquares, kSoftmax };

  // l2_auto: μ = 1e-4·(the curvature constant), [HardThreshold]'s choice (logistic and least
  // squares).
  LinearObjective(Kind kind, const Dataset& train, std::string spec, double l2, bool l2_auto);

  [[nodiscard]] const std::string& name() const override { return spec_; }
  [[nodiscard]] const Layout& layout() const override { return layout_; }
  void initialize(std::span<T> x, std::uint64_t seed) override;
  double loss_and_gradient(std::span<const T> x, const Dataset& data,
                           std::span<const std::size_t> samples, std::span<T> gradient) override;
  bool gradient(std::span<const T> x, const Dataset& data, std::span<const std::size_t> samples,
                std::span<T> gradient, std::span<const std::size_t> upcoming) override;
  // One dense row (batch 1, logistic or least squares): the row product and the gradient's pass
  // take the point's elements as they read them. Otherwise the default (the point written out).
  bool gradient_at(const DetachedPoint<T>& point, const Dataset& data,
                   std::span<const std::size_t> samples, std::span<T> gradient,
                   std::span<const std::size_t> upcoming) override;
  // The same row, with DEF's input formed from each chunk of the gradient while it is in L1.
  DetachedInput<T> detached_input_at(const DetachedPoint<T>& point, const Dataset& data,
                                     std::span<const std::size_t> samples, T w, T s, std::span<T> e,
                                     std::span<const std::size_t> upcoming) override;
  Evaluation evaluate(std::span<const T> x, const Dataset& data) override;
  [[nodiscard]] double smoothness() const override { return smoothness_; }
  [[nodiscard]] double strong_convexity() const override { return l2_; }
  [[nodiscard]] bool concurrent_gradients() const override { return true; }
  [[nodiscard]] bool convex() const override { return true; }
  [[nodiscard]] double l2() const { return l2_; }

 private:
  // gradient_at's one row, its loss slope at the detached point, and how many upcoming rows were
  // asked for (the rest is fetched after the gradient's pass).
  struct DetachedRow {
    const float* row;
    double slope;
    std::size_t fetched;
  };
  DetachedRow detached_row(const DetachedPoint<T>& point, const Dataset& data, std::size_t i,
                           std::span<const std::size_t> upcoming) const;
  // Whether gradient_at's one-row path applies at `point`.
  [[nodiscard]] bool one_dense_row(const DetachedPoint<T>& point, const Dataset& data,
                                   std::span<const std::size_t> samples, std::size_t size) const;
  // with_loss = false: the returned loss lacks the ℓ2 term (not computed).
  double accumulate(std::span<const T> x, const Dataset& data, std::span<const std::size_t> samples,
                    std::vector<double>* gradient, std::size_t* correct,
                    bool with_loss = true) const;
  // *seen_finite (when not null) is set to whether the gradient was seen finite as it was
  // written (the dense path's last pass checks it; the general path leaves it false).
  double fill_gradient(std::span<const T> x, const Dataset& data,
                       std::span<const std::size_t> samples, std::span<T> gradient, bool with_loss,
                       std::span<const std::size_t> upcoming, bool* seen_finite = nullptr) const;
  double fill_dense_gradient(std::span<const T> x, const Dataset& data,
                             std::span<const std::size_t> samples, std::span<T> gradient,
                             bool with_loss, std::span<const std::size_t> upcoming,
                             bool* seen_finite) const;
  // The dense rows of `upcoming` to fetch while this gradient is computed (at most ~64 KiB);
  // prefetch_rows asks for those from `first` on at once.
  [[nodiscard]] std::size_t rows_to_fetch(const Dataset& data,
                                          std::span<const std::size_t> upcoming) const;
  void prefetch_rows(const Dataset& data, std::span<const std::size_t> upcoming,
                     std::size_t first) const;
  // The derivative of sample i's loss at a_iᵀx = z, times `scale`; adds the loss into *loss.
  [[nodiscard]] double loss_slope(double z, double label, double scale, double* loss) const;

  Kind kind_;
  std::string spec_;
  std::size_t features_ = 0;
  std::size_t classes_ = 0;
  Layout layout_;
  double l2_ = 0;
  double smoothness_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace gradcomp
