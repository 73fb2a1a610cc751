#include "gradcomp/comm/mpi_session.hpp"

#include <mpi.h>

#include <cstdio>

namespace gradcomp {

MpiSession::MpiSession(int& argc, char**& argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  rank_ = static_cast<std::size_t>(rank);
  size_ = static_cast<std::size_t>(size);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0) MPI_Finalize();
}

int run_rank(const MpiSession& session, const std::function<int()>& body) {
  try {
    return body();
  } catch (...) {
    const ExitReport report = report_current_exception();
    if (session.size() == 1 || report.agreed) {
      if (session.rank() == 0) std::fprintf(stderr, "gradcomp: %s\n", report.message.c_str());
      return report.code;
    }
    std::fprintf(stderr, "gradcomp (rank %zu of %zu): %s; stopping every rank\n", session.rank(),
                 session.size(), report.message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, report.code);
    return report.code;
  }
}

}  // namespace gradcomp
