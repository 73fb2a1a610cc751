// The claims word of a WorkerPool share: a word from an earlier round is a share with nothing
// claimed, the round's own word counts its claims up to the share's size, and a newer round's
// word tells a late claimer its round is over — also where the round numbers wrap.
#include "gradcomp/comm/share_claims.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace gradcomp::share_claims {
namespace {

constexpr std::uint64_t word_of(std::uint64_t round, std::uint64_t claimed) {
  return ((round & kRoundMask) << kClaimBits) | claimed;
}

TEST(ShareClaims, AnEarlierRoundsWordIsAFreshShare) {
  const Claim claim = next_claim(word_of(6, 4), 7, 3);
  EXPECT_EQ(claim.outcome, Outcome::kTask);
  EXPECT_EQ(claim.index, 0U);
  EXPECT_EQ(claim.word, word_of(7, 1));
  EXPECT_EQ(next_claim(0, 1, 5).word, word_of(1, 1));  // the pool's first round
}

TEST(ShareClaims, TheRoundsOwnWordCountsItsClaimsToTheShareSize) {
  const Claim third = next_claim(word_of(7, 2), 7, 3);
  EXPECT_EQ(third.outcome, Outcome::kTask);
  EXPECT_EQ(third.index, 2U);
  EXPECT_EQ(third.word, word_of(7, 3));
  EXPECT_EQ(next_claim(word_of(7, 3), 7, 3).outcome, Outcome::kExhausted);
  EXPECT_EQ(next_claim(word_of(6, 0), 7, 0).outcome, Outcome::kExhausted);  // an empty share
}

TEST(ShareClaims, ANewerRoundsWordEndsALateClaimersRound) {
  EXPECT_EQ(next_claim(word_of(8, 0), 7, 3).outcome, Outcome::kStale);
  EXPECT_EQ(next_claim(word_of(9, 5), 7, 9).outcome, Outcome::kStale);
}

TEST(ShareClaims, RoundNumbersWrap) {
  const std::uint64_t last = kRoundMask;  // the last round number before the wrap
  // Round 2^kRoundBits (written as 0) is newer than round 2^kRoundBits − 1 ...
  EXPECT_EQ(next_claim(word_of(last + 1, 1), last, 3).outcome, Outcome::kStale);
  // ... and round 2^kRoundBits + 1 finds the word of round 2^kRoundBits − 1 an earlier one.
  const Claim after_wrap = next_claim(word_of(last, 3), last + 2, 3);
  EXPECT_EQ(after_wrap.outcome, Outcome::kTask);
  EXPECT_EQ(after_wrap.index, 0U);
  EXPECT_EQ(after_wrap.word, word_of(1, 1));
}

TEST(ShareClaims, AShareHoldsAtMostTheClaimFieldsCount) {
  EXPECT_EQ(kMostPerShare, (std::uint64_t{1} << 24) - 1);
  const Claim last = next_claim(word_of(7, kMostPerShare - 1), 7, kMostPerShare);
  EXPECT_EQ(last.outcome, Outcome::kTask);
  EXPECT_EQ(last.word, word_of(7, kMostPerShare));  // the round's bits untouched
}

}  // namespace
}  // namespace gradcomp::share_claims
