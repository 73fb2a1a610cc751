#pragma once
// Exchange: the second box of one step (docs/architecture.md): {Message_i} ─▶ aggregate, identical
// on every worker. One object per process; it serves the workers this process hosts (WorkerGroup)
// and talks to the other processes through a Communicator (`local`: none; `mpi`: p ranks).
//
// Determinism: wherever the pattern allows, sums over workers run in worker order on every rank
// (allgather, vote, server), so a run gives bit-identical results whatever its layout of workers
// over processes. Allreduce sums a rank's own workers in order and then runs the ring, so layouts
// agree to floating-point reduction order (tests/mpi: ≤ 1e-6 relative after 100 steps).
//
// Traffic: after each call traffic() describes the step under the pattern's model
// (exchange/traffic.hpp); communicator().counters() what actually crossed between processes.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "gradcomp/comm/communicator.hpp"
#include "gradcomp/comm/worker_group.hpp"
#include "gradcomp/comm/worker_pool.hpp"
#include "gradcomp/compress/compressor.hpp"
#include "gradcomp/core/per_element_type.hpp"
#include "gradcomp/exchange/pattern.hpp"
#include "gradcomp/exchange/traffic.hpp"

namespace gradcomp {

// The worker id in StepContext of the server's own encoding (its private randomness differs
// from every worker's; kSharedWorker is 0xFFFFFFFF).
inline constexpr std::uint32_t kServerWorker = 0xFFFFFFFEU;

// One step's input: the messages of the workers this process hosts, in worker order, and how to
// decode them (every worker uses the same compressor settings; decoding needs no state).
// Optionally, for a codec with Properties::elementwise_decode, the senders' own decodes of their
// messages (weight 1, this step; an empty span where there is none): the exchange then adds
// weight times the decoded vector instead of decoding the message again — the same bits.
struct Round {
  const Compressor& codec;
  const Layout& layout;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::span<const Message> messages;
  std::span<const std::span<const float>> float_decodes = {};
  std::span<const std::span<const double>> double_decodes = {};
  // Where a sender has its decode as the coordinates its message carries instead (null where
  // not): the exchange adds those, the same bits as decoding the message.
  std::span<const SparseDecode<float>* const> float_sparse_decodes = {};
  std::span<const SparseDecode<double>* const> double_sparse_decodes = {};
};

// The server side of the two-way pattern, supplied by the algorithm (dist-EF-SGD keeps its
// server error ẽ here). Every rank builds one; only the rank hosting the server calls answer(),
// so only its state evolves.
template <class T>
class ServerRole {
 public:
  virtual ~ServerRole() = default;
  // Decodes the answer on every worker.
  [[nodiscard]] virtual const Compressor& answer_codec() const = 0;
  // aggregate = weight · Σ_i decode(Δ_i), summed in worker order. Returns the message pushed to
  // every worker, valid until the next call; an empty message (no bytes) means the server only
  // collects, nothing is sent back and every worker's result is zero.
  virtual const Message& answer(std::span<const T> aggregate, const StepContext& context) = 0;
  // The last answer's decode into zeros, bit for bit, where the server has it at hand (it
  // decoded its own answer for its error feedback): the server's rank copies it instead of
  // decoding the answer again. Empty (the default) where it does not.
  [[nodiscard]] virtual std::span<const T> answer_decode() const { return {}; }
};

class Exchange {
 public:
  static constexpr std::size_t kServerRank = 0;

  // threads: see set_threads.
  Exchange(Communicator& communicator, WorkerGroup workers, std::size_t threads = 1);

  // out = weight · Σ_i decode(Δ_i): linear payloads summed by the communicator's allreduce.
  template <class T>
  void allreduce(const Round& round, std::span<T> out, T weight);
  // out = weight · Σ_i decode(Δ_i), every message gathered and decoded in worker order.
  template <class T>
  void allgather(const Round& round, std::span<T> out, T weight);
  // out = sign(Σ_i decode(Δ_i)) ∈ {−1, +1}, sign(0) = +1 (docs/compressors.md §2.3.10).
  template <class T>
  void majority_vote(const Round& round, std::span<T> out);
  // out = decode(answer), answer = role.answer(weight · Σ_i decode(Δ_i)) on the server's rank.
  template <class T>
  void server(const Round& round, ServerRole<T>& role, std::span<T> out, T weight);
  // Dispatches to one of the above; role is needed by kServer only.
  template <class T>
  void run(Pattern pattern, const Round& round, ServerRole<T>* role, std::span<T> out, T weight);

  [[nodiscard]] const StepTraffic& traffic() const { return traffic_; }
  [[nodiscard]] const WorkerGroup& workers() const { return workers_; }
  [[nodiscard]] Communicator& communicator() { return communicator_; }
  [[nodiscard]] bool hosts_server() const { return communicator_.rank() == kServerRank; }
  // The threads that decode received messages and run the algorithms' per-worker loops (1: none
  // besides the caller). Results do not depend on it.
  void set_threads(std::size_t threads);
  [[nodiscard]] WorkerPool& pool() { return *pool_; }

 private:
  // Every worker's message size in bytes (worker order), exchanged as control traffic; valid until
  // the next call.
  const std::vector<std::uint64_t>& message_sizes(const Round& round);
  // traffic_.message_bits = 8·sizes: the first half of every pattern's traffic model.
  void set_message_bits(std::span<const std::uint64_t> sizes);
  // Gathered messages of all workers: decode each in worker order.
  template <class T>
  void decode_all(const Round& round, std::span<const std::uint64_t> sizes, std::span<T> out,
                  T weight);
  // The sender's dense decode of worker's message, from the round, where it has one (a worker
  // of this process, a codec that decodes elementwise), else empty.
  template <class T>
  std::span<const T> sender_decode(const Round& round, std::size_t worker, std::size_t d) const;
  // The sender's decode as the coordinates its message carries, where it has one, else null.
  template <class T>
  const SparseDecode<T>* sender_sparse_decode(const Round& round, std::size_t worker) const;
  void pack_local(const Round& round);
  void check_round(const Round& round) const;
  [[nodiscard]] StepContext context_of(const Round& round, std::size_t worker) const {
    return {round.seed, round.step, static_cast<std::uint32_t>(worker)};
  }

  Communicator& communicator_;
  WorkerGroup workers_;
  StepTraffic traffic_;  // written over in place every step: no allocation once warm
  std::vector<std::uint64_t> own_sizes_;      // this rank's workers' message sizes
  std::vector<std::uint64_t> all_sizes_;      // every worker's, from the other ranks too
  std::vector<std::size_t> message_offsets_;  // each worker's message in gathered_bytes_
  std::vector<std::uint8_t> local_bytes_;     // this rank's messages back to back
  std::vector<std::uint8_t> gathered_bytes_;  // everyone's messages back to back
  std::vector<std::uint8_t> answer_bytes_;    // the server's answer
  PerElementType<VectorOf> payload_sums_;     // allreduce: the running sum and one payload
  std::unique_ptr<WorkerPool> pool_;
  // With threads: one decoded message per buffer before they are summed in worker order.
  PerElementType<VectorsOf> decoded_;
};

}  // namespace gradcomp
