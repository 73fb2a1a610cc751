#include "mpi_runtime.hpp"

#include <pybind11/pybind11.h>

#include <cstdio>
#include <cstdlib>

#include "gradcomp/core/error.hpp"

#if GRADCOMP_PYTHON_MPI
#include <mpi.h>

#include "gradcomp/comm/mpi_communicator.hpp"
#endif

namespace gradcomp::python {

namespace py = pybind11;

#if GRADCOMP_PYTHON_MPI

namespace {

void finalize_mpi() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized != 0 && finalized == 0) MPI_Finalize();
}

void start_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0) return;
  MPI_Init(nullptr, nullptr);
  py::module_::import("atexit").attr("register")(py::cpp_function(&finalize_mpi));
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  start_mpi();
  return std::make_unique<MpiCommunicator>();
}

void abort_job(std::size_t rank, std::size_t ranks, const std::string& what) {
  std::fprintf(stderr, "gradcomp (rank %zu of %zu): %s; stopping every rank\n", rank, ranks,
               what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

#else

std::unique_ptr<Communicator> make_mpi_communicator() {
  throw InvalidInput(
      "Optimizer: backend 'mpi' needs a module built with MPI (cmake -DGRADCOMP_WITH_MPI=ON); "
      "this one has 'local' only");
}

void abort_job(std::size_t rank, std::size_t ranks, const std::string& what) {
  std::fprintf(stderr, "gradcomp (rank %zu of %zu): %s\n", rank, ranks, what.c_str());
  std::abort();
}

#endif

}  // namespace gradcomp::python
