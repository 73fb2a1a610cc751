// The progress line (train/progress.hpp) on a fake clock: on a terminal it is redrawn once a
// second has passed since the last drawing, with the steps per second and the time left since
// the run's (or the resume's) first step; to a file it prints one line per evaluation only.
#include "gradcomp/train/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace gradcomp {
namespace {

using std::chrono::milliseconds;

// What the Progress wrote, read back from a temporary file.
class Captured {
 public:
  Captured() : file_(std::tmpfile()) {}
  ~Captured() { std::fclose(file_); }
  Captured(const Captured&) = delete;
  Captured& operator=(const Captured&) = delete;
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string all;
    for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_))
      all.push_back(static_cast<char>(c));
    return all;
  }

 private:
  std::FILE* file_;
};

nlohmann::ordered_json record(std::uint64_t step) {
  return {{"step", step},           {"epoch", 0.5},   {"train_loss", 0.25},
          {"test_accuracy", 0.875}, {"bits_up", 1e6}, {"simulated_seconds", 2.0}};
}

TEST(Progress, OnATerminalRedrawsEverySecondWithSpeedAndTimeLeft) {
  Captured out;
  const auto start = Progress::Clock::time_point{};
  Progress progress(1000, 100, true, out.file(), start);  // resumed at step 100
  progress.step_done(101, start + milliseconds(400));
  progress.step_done(102, start + milliseconds(900));
  EXPECT_EQ(out.text(), "");  // under a second: nothing yet
  progress.step_done(120, start + milliseconds(2000));
  // 20 steps in 2 s: 10 steps/s, 880 steps left: 88 s.
  EXPECT_EQ(out.text(), "\rstep    120/1000 (10 steps/s, 1:28 left)\x1b[K");
  progress.step_done(121, start + milliseconds(2500));  // half a second after the drawing
  EXPECT_EQ(out.text().size(),
            std::string("\rstep    120/1000 (10 steps/s, 1:28 left)\x1b[K").size());
  progress.evaluated(record(150), start + milliseconds(5000));
  EXPECT_EQ(out.text().substr(out.text().rfind('\r')),
            "\rstep    150/1000 (10 steps/s, 1:25 left) epoch  0.50 train loss 0.2500 test acc "
            "87.50% bits/worker 1e+06 simulated 2.0s\x1b[K");
}

TEST(Progress, ToAFileOneLinePerEvaluationAndHoursInTheTimeLeft) {
  Captured out;
  const auto start = Progress::Clock::time_point{};
  Progress progress(100000, 0, false, out.file(), start);
  progress.step_done(10, start + milliseconds(5000));
  EXPECT_EQ(out.text(), "");  // no redraws in a file
  progress.evaluated(record(10), start + milliseconds(5000));
  // 2 steps/s, 99,990 steps left: 49,995 s = 13:53:15.
  EXPECT_EQ(out.text(),
            "step     10/100000 (2 steps/s, 13:53:15 left) epoch  0.50 train loss 0.2500 test acc "
            "87.50% bits/worker 1e+06 simulated 2.0s\n");
}

}  // namespace
}  // namespace gradcomp
