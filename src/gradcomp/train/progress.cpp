#include "gradcomp/train/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace gradcomp {

namespace {

constexpr auto kRedrawEvery = std::chrono::seconds(1);

std::string clock_text(double seconds) {
  const auto whole = static_cast<std::uint64_t>(std::llround(seconds));
  const std::uint64_t hours = whole / 3600;
  const std::uint64_t minutes = whole / 60 % 60;
  return hours > 0 ? fmt::format("{}:{:02}:{:02}", hours, minutes, whole % 60)
                   : fmt::format("{}:{:02}", minutes, whole % 60);
}

std::string evaluation_text(const nlohmann::ordered_json& r) {
  const std::string accuracy =
      r["test_accuracy"].is_null()
          ? ""
          : fmt::format(" test acc {:.2f}%", 100 * r["test_accuracy"].get<double>());
  return fmt::format("epoch {:5.2f} train loss {:.4f}{} bits/worker {:.3g} simulated {:.1f}s",
                     r["epoch"].get<double>(),
                     r["train_loss"].is_null() ? NAN : r["train_loss"].get<double>(), accuracy,
                     r["bits_up"].get<double>(), r["simulated_seconds"].get<double>());
}

}  // namespace

bool stderr_is_terminal() {
  return isatty(fileno(stderr)) != 0;
}

Progress::Progress(std::uint64_t total_steps, std::uint64_t first_step, bool terminal,
                   std::FILE* out, Clock::time_point start)
    : total_steps_(total_steps),
      first_step_(first_step),
      terminal_(terminal),
      out_(out),
      start_(start),
      drawn_(start) {}

std::string Progress::speed(std::uint64_t step, Clock::time_point now) const {
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const auto done = static_cast<double>(step - first_step_);
  if (done <= 0 || seconds <= 0) return "";
  const double rate = done / seconds;
  const double left = static_cast<double>(total_steps_ - step) / rate;
  return fmt::format("{:.3g} steps/s, {} left", rate, clock_text(left));
}

void Progress::draw(std::uint64_t step, Clock::time_point now) {
  const std::string rate = speed(step, now);
  std::string line = fmt::format("step {:>6}/{}", step, total_steps_);
  if (!rate.empty()) line += " (" + rate + ")";
  if (!evaluation_.empty()) line += " " + evaluation_;
  if (terminal_) {
    // \x1b[K clears what a longer previous line left to the right.
    std::fprintf(out_, "\r%s\x1b[K%s", line.c_str(), step == total_steps_ ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
  drawn_ = now;
}

void Progress::step_done(std::uint64_t step, Clock::time_point now) {
  if (terminal_ && now - drawn_ >= kRedrawEvery) draw(step, now);
}

void Progress::evaluated(const nlohmann::ordered_json& record, Clock::time_point now) {
  evaluation_ = evaluation_text(record);
  draw(record["step"].get<std::uint64_t>(), now);
}

}  // namespace gradcomp
