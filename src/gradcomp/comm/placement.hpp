#pragma once
// Where a job's ranks run: every rank's host name, gathered at start-up so that rank 0 can say
// which rank runs on which host. Open MPI names the host when one is lost ("lost communication
// with a remote daemon ... on node H", "Peer host: H"); this line maps that host to its ranks.
#include <string>
#include <vector>

#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

// Collective: every rank's host name (gethostname), in rank order.
std::vector<std::string> rank_hosts(Communicator& communicator);

// "2 ranks on 2 hosts: rank 0 on node1, rank 1 on node2", consecutive ranks of one host grouped
// ("ranks 0-3 on node1"); empty when every rank runs on one host.
std::string describe_placement(const std::vector<std::string>& hosts);

}  // namespace gradcomp
