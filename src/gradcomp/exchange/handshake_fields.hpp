#pragma once
// What every rank of a distributed exchange must agree on before the first step, stated as the
// fields of the start-up handshake (comm/handshake.hpp). The trainer appends its own (algorithm,
// data, seed) and calls handshake() once.
#include <string_view>
#include <vector>

#include "gradcomp/comm/handshake.hpp"
#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/exchange/pattern.hpp"

namespace gradcomp {

// "gradcomp version", "number of workers", "model size", "layout" (layer count and a hash of
// every name and shape), "compressor" (canonical spec), "exchange pattern", "value type".
std::vector<HandshakeField> exchange_fields(const WorkerGroup& workers, const Layout& layout,
                                            const Compressor& compressor, Pattern pattern,
                                            std::string_view value_type);

}  // namespace gradcomp
