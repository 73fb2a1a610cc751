#pragma once
// MPI for the Python module, started by the module itself (no mpi4py): the first Optimizer with
// backend "mpi" initialises MPI, and Python's exit finalizes it. A module built without MPI
// names the build option instead.
#include <memory>
#include <string>

#include "gradcomp/comm/communicator.hpp"

namespace gradcomp::python {

// A communicator over MPI_COMM_WORLD. InvalidInput when the module was built without MPI.
std::unique_ptr<Communicator> make_mpi_communicator();

// Prints what happened on this rank and ends the whole job (MPI_Abort): an error on one rank
// while the others wait in a collective must not hang them.
[[noreturn]] void abort_job(std::size_t rank, std::size_t ranks, const std::string& what);

}  // namespace gradcomp::python
