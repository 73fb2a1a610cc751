#pragma once
// The lifetime of MPI in a process, and how a distributed job ends on an error.
//
// A job must never hang: an error raised on one rank ends the whole job through MPI_Abort (Open
// MPI's runtime then stops every rank within seconds), after the rank printed what happened with
// its rank number. An error every rank raised at the same point (a handshake mismatch:
// AgreedError, or any error of the start agreed on by start_together: AgreedFailure) is printed
// once, by rank 0, and every rank finalizes and exits with its code.
#include <functional>
#include <string>

#include "gradcomp/core/exit_report.hpp"

namespace gradcomp {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  [[nodiscard]] std::size_t rank() const { return rank_; }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::size_t rank_ = 0;
  std::size_t size_ = 1;
};

// Runs body on this rank: returns its exit code, or ends the job as described above.
int run_rank(const MpiSession& session, const std::function<int()>& body);

}  // namespace gradcomp
