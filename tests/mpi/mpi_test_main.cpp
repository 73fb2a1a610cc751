// main() of the MPI tests: every rank runs every test; rank 0 prints the usual report, the other
// ranks print only their failures (prefixed with the rank), and the process exits non-zero on
// any rank that failed, so mpirun (and ctest) fail too.
#include <gtest/gtest.h>

#include <cstdio>

#include "gradcomp/comm/mpi_session.hpp"

namespace {

class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(std::size_t rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %zu] %s:%d: %s\n", rank_, result.file_name(), result.line_number(),
                 result.summary());
  }

 private:
  std::size_t rank_;
};

}  // namespace

int main(int argc, char** argv) {
  gradcomp::MpiSession session(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (session.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(session.rank()));
  }
  return gradcomp::run_rank(session, [] { return RUN_ALL_TESTS(); });
}
