#pragma once
// The one mapping from an error to an exit code (docs/cli.md, exit codes), shared by the command line and the
// ranks of a distributed job: 2 bad input (including undecodable messages and mismatched ranks),
// 3 I/O or memory failure, 70 internal error.
#include <string>

namespace gradcomp {

struct ExitReport {
  int code = 70;
  std::string message;  // "error: ...", "I/O error: ...", "internal error (please report): ..."
  bool agreed = false;  // an AgreedError: every rank of the job raised it
};

// Call inside a catch block: describes the exception being handled.
ExitReport report_current_exception();

}  // namespace gradcomp
