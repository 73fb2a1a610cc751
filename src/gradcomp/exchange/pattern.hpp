#pragma once
// The four ways the workers' messages become the aggregate every worker applies
// (docs/architecture.md, one step: "exchange"). The algorithm decides which one it uses;
// docs/exchange.md describes each.
#include <string>
#include <string_view>

namespace gradcomp {

class Compressor;

enum class Pattern {
  kAllreduce,     // linear payloads summed by a ring allreduce, decoded once
  kAllgather,     // every message to every worker, decoded and summed in worker order
  kMajorityVote,  // the sign of the sum of the workers' signs (signSGD-MV)
  kServer,        // two-way: messages to a server, which answers with its own message
};

std::string_view pattern_name(Pattern pattern);
// "allreduce", "allgather", "vote" or "server"; anything else is InvalidInput listing them.
Pattern parse_pattern(const std::string& name);
// allreduce for compressors with a linear payload (identity, fp16, rbgs, shared randk, sketch),
// allgather for the rest.
Pattern default_pattern(const Compressor& compressor);

}  // namespace gradcomp
