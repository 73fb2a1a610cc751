#pragma once
// Step-size schedules γ_t, chosen by spec like compressors ("step:lr=0.1,epochs=150/250").
// Algorithms that rescale their errors by γ_{t−1}/γ_t (dist-EF-SGD, docs/algorithms.md §3.8) are
// given both rates every step (StepRates), so a schedule change is seen exactly.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gradcomp/compress/params.hpp"

namespace gradcomp {

// What some schedules need to know about the run.
struct ScheduleContext {
  std::uint64_t total_steps = 1;      // T
  std::uint64_t steps_per_epoch = 1;  // for epoch milestones
  std::size_t workers = 1;            // n
  double delta = 1;                   // δ of the compressor ([BlockEF] Corollaries)
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  [[nodiscard]] virtual double rate(std::uint64_t step) const = 0;
  [[nodiscard]] const std::string& spec() const { return spec_; }

 protected:
  explicit Schedule(std::string spec) : spec_(std::move(spec)) {}

 private:
  std::string spec_;
};

struct ScheduleEntry {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
};
const std::vector<ScheduleEntry>& schedule_entries();

// "constant:lr=0.1", "step:lr=0.1,factor=0.1,epochs=150/250", "inverse:c=2,t0=10",
// "s002-constant:lr=1", "s002-increasing:lr=1", "s002-decreasing:lr=1"; every kind takes
// warmup=W (linear warm-up over the first W steps). InvalidInput listing the kinds otherwise.
std::unique_ptr<Schedule> make_schedule(std::string_view spec, const ScheduleContext& context);

}  // namespace gradcomp
