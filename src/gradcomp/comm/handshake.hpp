#pragma once
// The start-up handshake of a distributed job: every rank states what it is about to run (model
// size, layout, compressor settings, workers, ...) and every rank checks every other rank against
// rank 0. A mismatch is an AgreedError (every rank raises the same one) naming the first rank
// that differs and the field, instead of a hang or a silently wrong sum later.
#include <string>
#include <vector>

#include "gradcomp/comm/communicator.hpp"

namespace gradcomp {

struct HandshakeField {
  std::string name;   // what the user calls it: "model size", "compressor", ...
  std::string value;  // its value on this rank, as text
};

void handshake(Communicator& communicator, const std::vector<HandshakeField>& fields);

}  // namespace gradcomp
