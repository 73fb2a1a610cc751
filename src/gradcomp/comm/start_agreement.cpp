#include "gradcomp/comm/start_agreement.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace gradcomp {

namespace {

// "" when the rank started; else its exit code, a tab, and its message.
std::string outcome_of(const std::function<void()>& part) {
  try {
    part();
    return "";
  } catch (...) {
    const ExitReport report = report_current_exception();
    return fmt::format("{}\t{}", report.code, report.message);
  }
}

ExitReport parse(std::string_view outcome) {
  const std::size_t tab = outcome.find('\t');
  ExitReport report;
  report.code = std::stoi(std::string(outcome.substr(0, tab)));
  report.message = std::string(outcome.substr(tab + 1));
  report.agreed = true;
  return report;
}

}  // namespace

void start_together(Communicator& communicator, const std::function<void()>& part) {
  const std::string mine = outcome_of(part);
  const GatheredBytes all = communicator.allgather(
      std::span(reinterpret_cast<const std::uint8_t*>(mine.data()), mine.size()));
  const std::size_t ranks = communicator.size();
  std::vector<std::string> outcomes;
  for (std::size_t rank = 0; rank < ranks; ++rank) {
    const auto bytes = all.part(rank);
    outcomes.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::size_t first = ranks;
  bool every_rank_the_same = true;
  for (std::size_t rank = 0; rank < ranks; ++rank) {
    if (outcomes[rank].empty()) {
      every_rank_the_same = false;
      continue;
    }
    if (first == ranks) first = rank;
    every_rank_the_same = every_rank_the_same && outcomes[rank] == outcomes[first];
  }
  if (first == ranks) return;
  ExitReport report = parse(outcomes[first]);
  if (!every_rank_the_same && ranks > 1)
    report.message += fmt::format(" (found by rank {} of {})", first, ranks);
  throw AgreedFailure(report);
}

}  // namespace gradcomp
