#pragma once
// The claims word of one thread's share of a WorkerPool round: the number of the round that last
// claimed from the share (its low kRoundBits bits) and how many of the share's tasks that round
// has claimed (kClaimBits bits). Threads claim a task by replacing the word with the next one
// (compare-and-swap), so no thread resets a share between rounds: a word left by an earlier
// round means nothing claimed yet. A helper that read a round's announcement and then lost its
// core may come back after that round ended: it finds the share's tasks all claimed, or a newer
// round in the word, and takes nothing.
#include <cstdint>

namespace gradcomp::share_claims {

inline constexpr unsigned kClaimBits = 24;
inline constexpr unsigned kRoundBits = 64 - kClaimBits;
inline constexpr std::uint64_t kClaimMask = (std::uint64_t{1} << kClaimBits) - 1;
inline constexpr std::uint64_t kRoundMask = (std::uint64_t{1} << kRoundBits) - 1;
// The most tasks one share of a round can hold: WorkerPool runs larger rounds in parts.
inline constexpr std::uint64_t kMostPerShare = kClaimMask;

enum class Outcome {
  kTask,       // task `index` of the share is the claimer's if `word` replaces the word it read
  kExhausted,  // the round has claimed all of the share's tasks
  kStale,      // the word holds a newer round: the claimer's round is over
};

struct Claim {
  Outcome outcome;
  std::uint64_t index = 0;
  std::uint64_t word = 0;
};

// What round `round` may claim from a share of `size` tasks whose word is `word`. Round numbers
// wrap at 2^kRoundBits; a word within half of that ahead of `round` is newer.
constexpr Claim next_claim(std::uint64_t word, std::uint64_t round, std::uint64_t size) {
  const std::uint64_t number = round & kRoundMask;
  const std::uint64_t ahead = ((word >> kClaimBits) - number) & kRoundMask;
  if (ahead != 0 && ahead <= (kRoundMask >> 1)) return {Outcome::kStale};
  const std::uint64_t claimed = ahead == 0 ? word & kClaimMask : 0;
  if (claimed >= size) return {Outcome::kExhausted};
  return {Outcome::kTask, claimed, (number << kClaimBits) | (claimed + 1)};
}

}  // namespace gradcomp::share_claims
