#include "gradcomp/algo/stepper.hpp"

#include <fmt/format.h>

#include <cmath>

#include "gradcomp/compress/compressor.hpp"  // first_non_finite
#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

constexpr const char* kAdvice =
    "the run diverged — lower the learning rate or the compression ratio";

}  // namespace

template <class T>
Stepper<T>::Stepper(Algorithm<T>& algorithm, const Layout& layout,
                    std::unique_ptr<Schedule> schedule, double rate_unit, std::size_t first_worker)
    : algorithm_(algorithm),
      layout_(layout),
      schedule_(std::move(schedule)),
      rate_unit_(rate_unit),
      first_worker_(first_worker) {}

template <class T>
double Stepper<T>::rate(std::int64_t step) const {
  if (step < 0) return 0;
  return rate_unit_ * schedule_->rate(static_cast<std::uint64_t>(step));
}

template <class T>
void Stepper<T>::step(const std::vector<std::span<const T>>& gradients) {
  for (std::size_t j = 0; j < gradients.size(); ++j) check_gradient(j, gradients[j]);
  step_checked(gradients);
}

template <class T>
void Stepper<T>::step_checked(const std::vector<std::span<const T>>& gradients) {
  advance([&](const StepRates& rates) { algorithm_.step(gradients, rates); });
}

template <class T>
void Stepper<T>::step_computing(GradientSource<T>& source) {
  advance([&](const StepRates& rates) { algorithm_.step_computing(source, rates); });
}

template <class T>
template <class RunAlgorithm>
void Stepper<T>::advance(const RunAlgorithm& run_algorithm) {
  const std::uint64_t t = next_step_;
  const auto signed_t = static_cast<std::int64_t>(t);
  try {
    run_algorithm(StepRates{t, rate(signed_t), rate(signed_t - 1)});
  } catch (const NonFiniteInput& e) {
    throw Diverged(fmt::format("step {}: {}; {}", t, e.what(), kAdvice));
  } catch (const ValueOverflow& e) {
    // A value grown beyond what its format holds ends the run as a NaN would; the message says
    // what to change.
    throw Diverged(fmt::format("step {}: {}", t, e.what()));
  }
  ++next_step_;
  check_finite(algorithm_.model(), t, std::nullopt, "model");
}

// Names the first non-finite value: NaN or infinity, its index and its layer, and the worker
// whose gradient it is (the model is every worker's: no worker is named for it).
template <class T>
void Stepper<T>::check_finite(std::span<const T> values, std::uint64_t step,
                              std::optional<std::size_t> worker, const char* what) const {
  const std::size_t bad = first_non_finite(values);
  if (bad == values.size()) return;
  reject(step, worker, what, bad, values[bad]);
}

template <class T>
void Stepper<T>::reject(std::uint64_t step, std::optional<std::size_t> worker, const char* what,
                        std::size_t index, T bad) const {
  const std::string where =
      worker ? fmt::format("step {}, worker {}", step, *worker) : fmt::format("step {}", step);
  throw Diverged(fmt::format("{}: the {} has {} at index {} (layer '{}'); {}", where, what,
                             std::isnan(static_cast<double>(bad)) ? "NaN" : "an infinity", index,
                             layout_.block_of(index).name, kAdvice));
}

template class Stepper<float>;
template class Stepper<double>;

}  // namespace gradcomp
