// The start-up line that maps ranks to hosts (comm/placement.hpp): Open MPI names a lost host,
// this line names its ranks.
#include "gradcomp/comm/placement.hpp"

#include <gtest/gtest.h>

#include "gradcomp/comm/local_communicator.hpp"

namespace gradcomp {
namespace {

TEST(Placement, OneHostSaysNothing) {
  EXPECT_EQ(describe_placement({}), "");
  EXPECT_EQ(describe_placement({"node1"}), "");
  EXPECT_EQ(describe_placement({"node1", "node1", "node1"}), "");
}

TEST(Placement, NamesEveryRanksHost) {
  EXPECT_EQ(describe_placement({"gchost1", "gchost2"}),
            "2 ranks on 2 hosts: rank 0 on gchost1, rank 1 on gchost2");
}

TEST(Placement, GroupsConsecutiveRanksOfOneHost) {
  EXPECT_EQ(describe_placement({"a", "a", "b", "b", "b", "a"}),
            "6 ranks on 2 hosts: ranks 0-1 on a, ranks 2-4 on b, rank 5 on a");
}

TEST(Placement, TheLocalCommunicatorIsOneRankOnThisHost) {
  LocalCommunicator communicator;
  const std::vector<std::string> hosts = rank_hosts(communicator);
  ASSERT_EQ(hosts.size(), 1U);
  EXPECT_FALSE(hosts[0].empty());
}

}  // namespace
}  // namespace gradcomp
