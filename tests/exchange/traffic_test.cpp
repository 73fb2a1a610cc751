// The traffic model of exchange/traffic.hpp (docs/exchange.md §2.4) and the α–β network model.
#include "gradcomp/exchange/traffic.hpp"

#include <gtest/gtest.h>

#include "gradcomp/core/error.hpp"
#include "gradcomp/exchange/network_model.hpp"

namespace gradcomp {
namespace {

TEST(Traffic, RingAllreduceMovesTwoTimesNMinusOneOverNOfThePayload) {
  const std::vector<std::uint64_t> messages(4, 8 * (16 + 4000));
  const StepTraffic t = allreduce_traffic(messages, 1000, 32);
  ASSERT_EQ(t.workers(), 4U);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(t.sent_bits[i], 48000U);  // 2·3/4·1000·32: values only, no header
    EXPECT_EQ(t.received_bits[i], 48000U);
  }
  EXPECT_EQ(allreduce_traffic(std::vector<std::uint64_t>{128}, 1000, 32).sent_bits[0], 0U);
}

TEST(Traffic, AllgatherReceivesEveryOtherMessage) {
  const std::vector<std::uint64_t> bits{100, 200, 300};
  const StepTraffic t = allgather_traffic(bits);
  EXPECT_EQ(t.received_bits, (std::vector<std::uint64_t>{500, 400, 300}));
  // Ring: worker i forwards everything but its right neighbour's message.
  EXPECT_EQ(t.sent_bits, (std::vector<std::uint64_t>{400, 300, 500}));
}

TEST(Traffic, ServerLinkCarriesNMessagesEachWay) {
  const std::vector<std::uint64_t> bits{100, 200, 300};
  const StepTraffic t = server_traffic(Pattern::kServer, bits, 50);
  EXPECT_EQ(t.sent_bits, bits);
  EXPECT_EQ(t.received_bits, (std::vector<std::uint64_t>{50, 50, 50}));
  EXPECT_EQ(t.server_received_bits, 600U);
  EXPECT_EQ(t.server_sent_bits, 150U);
}

TEST(NetworkModel, ParsesBandwidthAndLatency) {
  const NetworkModel gbit = NetworkModel::parse("1Gbit");
  EXPECT_DOUBLE_EQ(gbit.bits_per_second, 1e9);
  EXPECT_DOUBLE_EQ(gbit.latency_seconds, 50e-6);
  EXPECT_DOUBLE_EQ(NetworkModel::parse("100Mbit").bits_per_second, 1e8);
  EXPECT_DOUBLE_EQ(NetworkModel::parse("100Mbit").latency_seconds, 100e-6);
  const NetworkModel fast = NetworkModel::parse("2.5Gbit:latency_us=7");
  EXPECT_DOUBLE_EQ(fast.bits_per_second, 2.5e9);
  EXPECT_DOUBLE_EQ(fast.latency_seconds, 7e-6);
  EXPECT_DOUBLE_EQ(NetworkModel::parse("10Gbit").latency_seconds, 20e-6);
  EXPECT_EQ(
      NetworkModel::parse("none").seconds(allgather_traffic(std::vector<std::uint64_t>{1, 2})),
      0.0);
}

TEST(NetworkModel, RejectsWhatItCannotRead) {
  const std::string help =
      "use none, or a bandwidth such as 100Mbit, 1Gbit, 10Gbit or 2.5Gbit, optionally followed "
      "by :latency_us=<microseconds>";
  try {
    (void)NetworkModel::parse("1GB");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()), "network '1GB': unknown bandwidth '1GB'; " + help);
  }
  try {
    (void)NetworkModel::parse("-1Gbit");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()), "network '-1Gbit': '-1' is not a positive number; " + help);
  }
  try {
    (void)NetworkModel::parse("1Gbit:mtu=9000");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()),
              "network '1Gbit:mtu=9000': unknown option 'mtu=9000'; " + help);
  }
}

TEST(NetworkModel, SecondsPerPattern) {
  const NetworkModel net = NetworkModel::parse("1Gbit:latency_us=10");
  // Dense allreduce of 25M floats over 16 workers: 2·15/16·800 Mbit at 1 Gbit/s + 30 latencies.
  const StepTraffic dense = allreduce_traffic(std::vector<std::uint64_t>(16, 0), 25'000'000, 32);
  EXPECT_NEAR(net.seconds(dense), 1.5 + 30 * 10e-6, 1e-9);
  // Allgather of 3 messages: the largest receive (500 bits) plus 2·2 latencies.
  EXPECT_NEAR(net.seconds(allgather_traffic(std::vector<std::uint64_t>{100, 200, 300})),
              500e-9 + 4 * 10e-6, 1e-15);
  // Server on worker 0's host: 200 + 300 bits in, 2·50 out, two latencies.
  EXPECT_NEAR(
      net.seconds(server_traffic(Pattern::kServer, std::vector<std::uint64_t>{100, 200, 300}, 50)),
      600e-9 + 2 * 10e-6, 1e-15);
  // One worker: the server is on its host, nothing crosses a link.
  EXPECT_NEAR(net.seconds(server_traffic(Pattern::kServer, std::vector<std::uint64_t>{100}, 50)),
              2 * 10e-6, 1e-15);
  // The vote's server is the papers' dedicated one: all 600 bits in, 3 answers out.
  EXPECT_NEAR(net.seconds(server_traffic(Pattern::kMajorityVote,
                                         std::vector<std::uint64_t>{100, 200, 300}, 50)),
              750e-9 + 2 * 10e-6, 1e-15);
}

}  // namespace
}  // namespace gradcomp
