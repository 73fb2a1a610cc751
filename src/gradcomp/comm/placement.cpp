#include "gradcomp/comm/placement.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <set>

namespace gradcomp {

std::vector<std::string> rank_hosts(Communicator& communicator) {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) name[0] = '\0';
  const std::string mine = name[0] != '\0' ? std::string(name) : std::string("unknown host");
  const GatheredBytes all = communicator.allgather(
      std::span(reinterpret_cast<const std::uint8_t*>(mine.data()), mine.size()));
  std::vector<std::string> hosts;
  for (std::size_t rank = 0; rank < communicator.size(); ++rank) {
    const auto part = all.part(rank);
    hosts.emplace_back(reinterpret_cast<const char*>(part.data()), part.size());
  }
  return hosts;
}

std::string describe_placement(const std::vector<std::string>& hosts) {
  const std::set<std::string> distinct(hosts.begin(), hosts.end());
  if (distinct.size() <= 1) return {};
  std::string text = fmt::format("{} ranks on {} hosts:", hosts.size(), distinct.size());
  for (std::size_t first = 0; first < hosts.size();) {
    std::size_t last = first;
    while (last + 1 < hosts.size() && hosts[last + 1] == hosts[first]) ++last;
    text += first == last ? fmt::format(" rank {} on {}", first, hosts[first])
                          : fmt::format(" ranks {}-{} on {}", first, last, hosts[first]);
    text += last + 1 < hosts.size() ? "," : "";
    first = last + 1;
  }
  return text;
}

}  // namespace gradcomp
