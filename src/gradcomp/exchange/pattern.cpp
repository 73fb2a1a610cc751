#include "gradcomp/exchange/pattern.hpp"

#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/error.hpp"

namespace gradcomp {

std::string_view pattern_name(Pattern pattern) {
  switch (pattern) {
    case Pattern::kAllreduce:
      return "allreduce";
    case Pattern::kAllgather:
      return "allgather";
    case Pattern::kMajorityVote:
      return "vote";
    case Pattern::kServer:
      return "server";
  }
  return "?";
}

Pattern parse_pattern(const std::string& name) {
  for (const Pattern p :
       {Pattern::kAllreduce, Pattern::kAllgather, Pattern::kMajorityVote, Pattern::kServer}) {
    if (pattern_name(p) == name) return p;
  }
  throw InvalidInput(fmt::format(
      "unknown exchange pattern '{}'; choose allreduce, allgather, vote or server", name));
}

Pattern default_pattern(const Compressor& compressor) {
  return compressor.payload_size(Layout::flat(1)).has_value() ? Pattern::kAllreduce
                                                              : Pattern::kAllgather;
}

}  // namespace gradcomp
