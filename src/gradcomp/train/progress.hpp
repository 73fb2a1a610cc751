#pragma once
// The progress of `gradcomp train` on standard error (run.progress). On a terminal one line is
// rewritten in place at least every second — step, steps per second, the time left at that
// speed, then the last evaluation (epoch, training loss, test accuracy, bits per worker, the
// simulated clock) — so a slow run (a ResNet: seconds per step) never looks stuck. Written to a
// file or pipe, it prints one line per evaluation instead.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace gradcomp {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  // `first_step`: where the run starts (a resumed run: its checkpoint's step), for the speed.
  Progress(std::uint64_t total_steps, std::uint64_t first_step, bool terminal, std::FILE* out,
           Clock::time_point start = Clock::now());

  // After every step: on a terminal, redraws when a second has passed since the last drawing.
  void step_done(std::uint64_t step, Clock::time_point now = Clock::now());
  // After every evaluation: a line of its own (not a terminal) or a redraw (terminal).
  void evaluated(const nlohmann::ordered_json& record, Clock::time_point now = Clock::now());

  // "steps/s" and the time left as "1:02:03" / "2:03" from the steps done since the start.
  [[nodiscard]] std::string speed(std::uint64_t step, Clock::time_point now) const;

 private:
  void draw(std::uint64_t step, Clock::time_point now);

  std::uint64_t total_steps_;
  std::uint64_t first_step_;
  bool terminal_;
  std::FILE* out_;
  Clock::time_point start_;
  Clock::time_point drawn_;
  std::string evaluation_;  // the last evaluation's part of the line
};

// True when standard error is a terminal (the line is then rewritten in place).
bool stderr_is_terminal();

}  // namespace gradcomp
