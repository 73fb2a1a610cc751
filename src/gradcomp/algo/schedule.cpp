#include "gradcomp/algo/schedule.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

ParamSpec lr_param(const char* help = "the base step size gamma_0") {
  return real_param("lr", "0.1", 0, 1e9, help, true);
}
ParamSpec warmup_param() {
  return int_param("warmup", "0", 0, 1e12,
                   "linear warm-up: gamma_t is scaled by (t+1)/W for the first W steps");
}
ParamSpec delta_param() {
  return real_param("delta", "", 0, 1, "the compressor's delta (default: its declared constant)",
                    true);
}

// [BlockEF] Corollaries 1–3 share (1−δ)^{1/3}(1/δ² + 16/δ⁴)^{1/3}.
double s002_factor(double delta) {
  return std::cbrt(1 - delta) * std::cbrt(1 / (delta * delta) + 16 / std::pow(delta, 4));
}

using RateFunction = std::function<double(std::uint64_t)>;

class FunctionSchedule final : public Schedule {
 public:
  FunctionSchedule(std::string spec, RateFunction rate, std::uint64_t warmup)
      : Schedule(std::move(spec)), rate_(std::move(rate)), warmup_(warmup) {}
  [[nodiscard]] double rate(std::uint64_t step) const override {
    const double base = rate_(step);
    if (step >= warmup_) return base;
    return base * static_cast<double>(step + 1) / static_cast<double>(warmup_);
  }

 private:
  RateFunction rate_;
  std::uint64_t warmup_;
};

struct Kind {
  ScheduleEntry entry;
  std::function<RateFunction(const Params&, const ScheduleContext&)> make;
};

double resolved_delta(const Params& p, const ScheduleContext& context) {
  return p.given("delta") ? p.real("delta") : context.delta;
}

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all = [] {
    std::vector<Kind> k;
    k.push_back({{"constant", "gamma_t = lr", {lr_param(), warmup_param()}},
                 [](const Params& p, const ScheduleContext&) -> RateFunction {
                   const double lr = p.real("lr");
                   return [lr](std::uint64_t) { return lr; };
                 }});
    k.push_back(
        {{"step",
          "lr, multiplied by factor at each epoch milestone ([DEF]'s decay)",
          {lr_param(), real_param("factor", "0.1", 0, 1, "multiplier at each milestone", true),
           list_param("epochs", "", 0, 1e9, "epoch milestones, e.g. 150/250 (or fractions)"),
           list_param("fractions", "", 0, 1,
                      "milestones as fractions of the run instead, e.g. 0.5/0.75 ([DEF]'s code)"),
           warmup_param()}},
         [](const Params& p, const ScheduleContext& c) -> RateFunction {
           const double lr = p.real("lr");
           const double factor = p.real("factor");
           require(!(p.given("epochs") && p.given("fractions")),
                   "step schedule: give the milestones as epochs or as fractions of the run, not "
                   "both");
           // Milestones in epochs; fractions of T converted to them.
           const double per_epoch = static_cast<double>(c.steps_per_epoch);
           std::vector<double> epochs;
           if (p.given("fractions")) {
             for (const double f : p.list("fractions")) {
               epochs.push_back(f * static_cast<double>(c.total_steps) / per_epoch);
             }
           } else {
             epochs = p.list("epochs");  // neither given: names epochs as the one to give
           }
           return [=](std::uint64_t t) {
             const double epoch = static_cast<double>(t) / per_epoch;
             double rate = lr;
             for (const double milestone : epochs) rate *= epoch >= milestone ? factor : 1;
             return rate;
           };
         }});
    k.push_back({{"inverse",
                  "gamma_t = c / (t + 1 + t0)",
                  {real_param("c", "1", 0, 1e12, "the numerator c", true),
                   real_param("t0", "0", 0, 1e12, "the shift t0"), warmup_param()}},
                 [](const Params& p, const ScheduleContext&) -> RateFunction {
                   const double c = p.real("c");
                   const double t0 = p.real("t0");
                   return [=](std::uint64_t t) { return c / (static_cast<double>(t) + 1 + t0); };
                 }});
    k.push_back({{"s002-constant",
                  "[BlockEF] Cor 3: lr / (sqrt(T/n) + F T^(1/3)), F = (1-delta)^(1/3)(1/delta^2 + "
                  "16/delta^4)^(1/3)",
                  {lr_param("gamma_0"), delta_param(), warmup_param()}},
                 [](const Params& p, const ScheduleContext& c) -> RateFunction {
                   const double steps = static_cast<double>(c.total_steps);
                   const double n = static_cast<double>(c.workers);
                   const double rate =
                       p.real("lr") / (std::sqrt(steps / n) +
                                       s002_factor(resolved_delta(p, c)) * std::cbrt(steps));
                   return [rate](std::uint64_t) { return rate; };
                 }});
    k.push_back({{"s002-increasing",
                  "[BlockEF] Cor 2: lr sqrt(t+1) / (T/sqrt(n) + F T^(5/6))",
                  {lr_param("gamma_0"), delta_param(), warmup_param()}},
                 [](const Params& p, const ScheduleContext& c) -> RateFunction {
                   const double steps = static_cast<double>(c.total_steps);
                   const double n = static_cast<double>(c.workers);
                   const double scale =
                       p.real("lr") / (steps / std::sqrt(n) + s002_factor(resolved_delta(p, c)) *
                                                                  std::pow(steps, 5.0 / 6));
                   return [scale](std::uint64_t t) {
                     return scale * std::sqrt(static_cast<double>(t) + 1);
                   };
                 }});
    k.push_back({{"s002-decreasing",
                  "[BlockEF] Cor 2: lr / (((t+1) T)^(1/4)/sqrt(n) + F T^(1/3))",
                  {lr_param("gamma_0"), delta_param(), warmup_param()}},
                 [](const Params& p, const ScheduleContext& c) -> RateFunction {
                   const double steps = static_cast<double>(c.total_steps);
                   const double n = static_cast<double>(c.workers);
                   const double lr = p.real("lr");
                   const double tail = s002_factor(resolved_delta(p, c)) * std::cbrt(steps);
                   return [=](std::uint64_t t) {
                     return lr /
                            (std::pow((static_cast<double>(t) + 1) * steps, 0.25) / std::sqrt(n) +
                             tail);
                   };
                 }});
    return k;
  }();
  return all;
}

}  // namespace

const std::vector<ScheduleEntry>& schedule_entries() {
  static const std::vector<ScheduleEntry> entries = [] {
    std::vector<ScheduleEntry> e;
    for (const auto& kind : kinds()) e.push_back(kind.entry);
    return e;
  }();
  return entries;
}

std::unique_ptr<Schedule> make_schedule(std::string_view spec, const ScheduleContext& context) {
  const std::size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  for (const auto& kind : kinds()) {
    if (kind.entry.name != name) continue;
    const Params params = Params::parse(
        name, colon == std::string_view::npos ? "" : spec.substr(colon + 1), kind.entry.params);
    return std::make_unique<FunctionSchedule>(params.canonical(), kind.make(params, context),
                                              static_cast<std::uint64_t>(params.integer("warmup")));
  }
  std::vector<std::string> names;
  for (const auto& kind : kinds()) names.push_back(kind.entry.name);
  throw InvalidInput(
      fmt::format("unknown schedule '{}'; schedules: {}", name, fmt::join(names, ", ")));
}

}  // namespace gradcomp
