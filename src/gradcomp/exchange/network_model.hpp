#pragma once
// The α–β network model (docs/exchange.md): one step's traffic becomes seconds on a chosen
// network, so every run can report simulated wall-clock = measured compute + modelled
// communication. α is the latency of one message, β = 1/bandwidth. Per pattern, with n workers:
//   allreduce  2(n−1)·α + β·max_i sent_i                     (ring: 2(n−1) rounds)
//   allgather  2(n−1)·α + β·max_i received_i                  (a ring for the sizes, one for data)
//   server     2α + β·(server in − b_0) + β·(server out − answer)
//                                                            (push, then the answer to everyone)
//   vote       2α + β·(server in) + β·(server out)            (signSGD-MV's dedicated server)
// Links are full duplex and every worker has its own; the server's link is the bottleneck of the
// two-way pattern. The server shares worker 0's host, as under mpi it runs on rank 0: worker 0's
// message and its copy of the answer never cross a link. docs/benchmarks.md compares the model
// with rate-limited real links, shared and per host.
#include <string>

#include "gradcomp/exchange/traffic.hpp"

namespace gradcomp {

// A step's traffic in the model's two units: latencies paid in sequence and bits through the
// busiest link. Seconds on any α–β network are α·messages + bits/bandwidth, so a run that keeps
// these totals can be timed afterwards on networks it did not run with (docs/outputs.md).
struct NetworkCost {
  double messages = 0;  // α terms
  double bits = 0;      // β terms
  NetworkCost& operator+=(const NetworkCost& other) {
    messages += other.messages;
    bits += other.bits;
    return *this;
  }
};

struct NetworkModel {
  std::string name = "none";
  double bits_per_second = 0;  // 0: infinitely fast, no communication time ("none")
  double latency_seconds = 0;

  // "none", or a bandwidth "<number>Mbit" / "<number>Gbit" (e.g. 100Mbit, 1Gbit, 10Gbit, 2.5Gbit)
  // with an optional ":latency_us=<µs>". Default latencies: 100 µs below 1 Gbit/s, 50 µs up to
  // 1 Gbit/s, 20 µs up to 10 Gbit/s, 10 µs above.
  static NetworkModel parse(const std::string& spec);

  [[nodiscard]] static NetworkCost cost(const StepTraffic& traffic);
  [[nodiscard]] double seconds(const NetworkCost& cost) const;
  [[nodiscard]] double seconds(const StepTraffic& traffic) const { return seconds(cost(traffic)); }
};

}  // namespace gradcomp
