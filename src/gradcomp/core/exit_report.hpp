#pragma once
// The one mapping from an error to an exit code (docs/cli.md, exit codes), shared by the command
// line and the ranks of a distributed job: 2 bad input (including undecodable messages and
// mismatched ranks), 3 I/O or memory failure, 70 internal error.
#include <stdexcept>
#include <string>

namespace gradcomp {

struct ExitReport {
  int code = 70;
  std::string message;  // "error: ...", "I/O error: ...", "internal error (please report): ..."
  bool agreed = false;  // an AgreedError: every rank of the job raised it
};

// An error every rank of the job learned at the same point (comm/start_agreement.hpp): its report
// is printed once, by rank 0.
class AgreedFailure : public std::runtime_error {
 public:
  explicit AgreedFailure(ExitReport report)
      : std::runtime_error(report.message), report_(std::move(report)) {}
  [[nodiscard]] const ExitReport& report() const { return report_; }

 private:
  ExitReport report_;
};

// Call inside a catch block: describes the exception being handled.
ExitReport report_current_exception();

}  // namespace gradcomp
