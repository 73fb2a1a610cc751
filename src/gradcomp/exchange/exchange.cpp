#include "gradcomp/exchange/exchange.hpp"

#include <algorithm>
#include <cstring>

#include "gradcomp/comm/chained_sum.hpp"
#include "gradcomp/comm/coordinate_slices.hpp"
#include "gradcomp/core/elementwise.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/exchange/sender_errors.hpp"

namespace gradcomp {

Exchange::Exchange(Communicator& communicator, WorkerGroup workers, std::size_t threads)
    : communicator_(communicator),
      workers_(workers),
      pool_(std::make_unique<WorkerPool>(std::max<std::size_t>(threads, 1))) {
  require<InternalError>(workers.ranks == communicator.size(),
                         "worker group made for {} ranks, the communicator has {}", workers.ranks,
                         communicator.size());
}

void Exchange::check_round(const Round& round) const {
  require(round.messages.size() == workers_.count,
          "exchange: {} messages given, but this rank hosts {} workers", round.messages.size(),
          workers_.count);
}

const std::vector<std::uint64_t>& Exchange::message_sizes(const Round& round) {
  own_sizes_.resize(round.messages.size());
  for (std::size_t j = 0; j < round.messages.size(); ++j) {
    own_sizes_[j] = round.messages[j].bytes.size();
  }
  if (communicator_.size() == 1) return own_sizes_;  // every worker is this process's
  all_sizes_ = communicator_.allgather_fixed(own_sizes_);
  return all_sizes_;
}

void Exchange::set_message_bits(std::span<const std::uint64_t> sizes) {
  traffic_.message_bits.resize(sizes.size());
  for (std::size_t w = 0; w < sizes.size(); ++w) traffic_.message_bits[w] = 8 * sizes[w];
}

void Exchange::pack_local(const Round& round) {
  local_bytes_.clear();
  for (const Message& m : round.messages) {
    local_bytes_.insert(local_bytes_.end(), m.bytes.begin(), m.bytes.end());
  }
}

void Exchange::set_threads(std::size_t threads) {
  threads = std::max<std::size_t>(threads, 1);
  if (threads != pool_->threads()) pool_ = std::make_unique<WorkerPool>(threads);
}

template <class T>
void Exchange::decode_all(const Round& round, std::span<const std::uint64_t> sizes,
                          std::span<T> out, T weight) {
  // One process: the messages are already here, no packing or copying.
  const bool local = communicator_.size() == 1;
  if (!local) {
    message_offsets_.assign(workers_.total + 1, 0);
    for (std::size_t w = 0; w < workers_.total; ++w) {
      message_offsets_[w + 1] = message_offsets_[w] + sizes[w];
    }
  }
  // Messages whose sender's decode is at hand are not decoded again: `out` += weight·C(v) over d,
  // or at the coordinates the message carries. out starts at +0 and so never holds −0: adding
  // weight·0 where the message carries nothing leaves it as it is, and the sum is the decode's,
  // bit for bit. A dense decode replaces decoding only from d/16 bytes of message (a pass over d
  // costs about what decoding that much does), except in the chained sum below. Each is looked
  // up where it is used (a few comparisons), not gathered into vectors: nothing is allocated per
  // step, and in the chained sum each thread reads only the entries its own workers wrote.
  const auto dense = [&](std::size_t w) { return sender_decode<T>(round, w, out.size()); };
  const auto reused = [&](std::size_t w) {
    return sizes[w] >= out.size() / 16 ? dense(w) : std::span<const T>{};
  };
  const auto carried = [&](std::size_t w) -> const SparseDecode<T>* {
    return dense(w).empty() ? sender_sparse_decode<T>(round, w) : nullptr;
  };
  // weight·v[begin, end) onto out[begin, end).
  const auto add_range = [&](std::span<const T> v, std::size_t begin, std::size_t end) {
    elementwise<T>().add_scaled(out.data() + begin, weight, v.data() + begin, out.data() + begin,
                                end - begin);
  };
  // Worker w's carried coordinates in [begin, end), each once, onto `into`.
  const auto add_carried = [&](std::size_t w, std::span<T> into, std::size_t begin,
                               std::size_t end) {
    const SparseDecode<T>& decode = *carried(w);
    for (std::size_t k = 0; k < decode.indices.size(); ++k) {
      const std::size_t i = decode.indices[k];
      if (i >= begin && i < end) into[i] += weight * decode.values[k];
    }
  };
  const auto add_message = [&](std::size_t w, std::span<T> into) {
    if (const std::span<const T> decoded = reused(w); !decoded.empty()) {
      elementwise<T>().add_scaled(into.data(), weight, decoded.data(), into.data(), into.size());
      return;
    }
    if (carried(w) != nullptr) {
      add_carried(w, into, 0, into.size());
      return;
    }
    const std::span<const std::uint8_t> bytes =
        local
            ? std::span<const std::uint8_t>(round.messages[w].bytes)
            : std::span<const std::uint8_t>(gathered_bytes_).subspan(message_offsets_[w], sizes[w]);
    decode_from(workers_, w, [&] {
      round.codec.decode_add(bytes, round.layout, context_of(round, w), into, weight);
    });
  };
  // Nothing to decode (one process, every message's decode written by its sender, dense or as
  // its coordinates): each thread adds the decodes of the workers it ran, onto the partial sums
  // of the threads before it (chained_sum: no decode leaves the core that wrote it). A small
  // message's dense decode is added here too, on its own core, rather than decoded on another.
  bool all_at_hand = true;
  for (std::size_t w = 0; w < workers_.total && all_at_hand; ++w) {
    all_at_hand = !dense(w).empty() || carried(w) != nullptr;
  }
  if (pool_->threads() > 1 && local && all_at_hand) {
    chained_sum_of<T>(*pool_, workers_.total, out,
                      [&](std::size_t w, std::size_t begin, std::size_t end) {
                        if (const std::span<const T> decoded = dense(w); !decoded.empty()) {
                          add_range(decoded, begin, end);
                        } else {
                          add_carried(w, out, begin, end);
                        }
                      });
    return;
  }
  std::fill(out.begin(), out.end(), T{0});
  std::uint64_t bytes_to_decode = 0;
  for (std::size_t w = 0; w < workers_.total; ++w) {
    if (reused(w).empty() && carried(w) == nullptr) bytes_to_decode += sizes[w];
  }
  // The parallel path costs each message two passes over d (zeroing its buffer, adding it): worth
  // it only where decoding costs as much, i.e. messages of at least d/8 values' bytes.
  const bool small_messages = bytes_to_decode < workers_.total * out.size() * sizeof(T) / 8;
  if (pool_->threads() == 1 || workers_.total == 1 || small_messages) {
    for (std::size_t w = 0; w < workers_.total; ++w) add_message(w, out);
    return;
  }
  // In parallel: each message of a group into a zeroed buffer of its own (0 + δ = δ exactly), then
  // the buffers added into `out` in worker order, slice by slice — the additions of the sequential
  // loop above, in its order: the same bits for any number of threads.
  const CoordinateSlices slices(out.size(), pool_->threads());
  const std::size_t group = 4 * pool_->threads();
  auto& buffers = decoded_.of<T>();
  buffers.resize(std::min(group, workers_.total));
  for (auto& buffer : buffers) buffer.resize(out.size());
  for (std::size_t first = 0; first < workers_.total; first += group) {
    const std::size_t count = std::min(group, workers_.total - first);
    pool_->run(count, [&](std::size_t k) {
      if (!reused(first + k).empty()) return;  // added from the sender's decode below
      std::fill(buffers[k].begin(), buffers[k].end(), T{0});
      add_message(first + k, std::span<T>(buffers[k]));
    });
    pool_->run(slices.count(), [&](std::size_t s) {
      const std::size_t begin = slices.begin(s);
      const std::size_t end = slices.end(s);
      for (std::size_t k = 0; k < count; ++k) {
        if (const std::span<const T> decoded = reused(first + k); !decoded.empty()) {
          add_range(decoded, begin, end);
          continue;
        }
        const T* from = buffers[k].data();
        for (std::size_t i = begin; i < end; ++i) out[i] += from[i];
      }
    });
  }
}

template <class T>
std::span<const T> Exchange::sender_decode(const Round& round, std::size_t worker,
                                           std::size_t d) const {
  std::span<const std::span<const T>> decodes;
  if constexpr (std::is_same_v<T, float>) {
    decodes = round.float_decodes;
  } else {
    decodes = round.double_decodes;
  }
  if (decodes.empty() || !round.codec.properties().elementwise_decode || worker < workers_.first ||
      worker - workers_.first >= decodes.size()) {
    return {};
  }
  const std::span<const T> decoded = decodes[worker - workers_.first];
  return decoded.size() == d ? decoded : std::span<const T>{};
}

template <class T>
const SparseDecode<T>* Exchange::sender_sparse_decode(const Round& round,
                                                      std::size_t worker) const {
  std::span<const SparseDecode<T>* const> decodes;
  if constexpr (std::is_same_v<T, float>) {
    decodes = round.float_sparse_decodes;
  } else {
    decodes = round.double_sparse_decodes;
  }
  if (!round.codec.properties().elementwise_decode || worker < workers_.first ||
      worker - workers_.first >= decodes.size()) {
    return nullptr;
  }
  return decodes[worker - workers_.first];
}

template <class T>
void Exchange::run(Pattern pattern, const Round& round, ServerRole<T>* role, std::span<T> out,
                   T weight) {
  switch (pattern) {
    case Pattern::kAllreduce:
      allreduce(round, out, weight);
      return;
    case Pattern::kAllgather:
      allgather(round, out, weight);
      return;
    case Pattern::kMajorityVote:
      majority_vote(round, out);
      return;
    case Pattern::kServer:
      require<InternalError>(role != nullptr, "the server pattern needs a server role");
      server(round, *role, out, weight);
      return;
  }
}

template void Exchange::decode_all(const Round&, std::span<const std::uint64_t>, std::span<float>,
                                   float);
template void Exchange::decode_all(const Round&, std::span<const std::uint64_t>, std::span<double>,
                                   double);
template void Exchange::run(Pattern, const Round&, ServerRole<float>*, std::span<float>, float);
template void Exchange::run(Pattern, const Round&, ServerRole<double>*, std::span<double>, double);

}  // namespace gradcomp
