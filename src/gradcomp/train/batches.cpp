#include "gradcomp/train/batches.hpp"

#include <charconv>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/random.hpp"

namespace gradcomp {

Batches::Batches(const Shards& shards, const WorkerGroup& group, const std::string& batch,
                 std::uint64_t seed)
    : shards_(shards),
      group_(group),
      seed_(seed),
      cached_pass_(group.count, ~0ULL),
      cached_order_(group.count),
      current_(group.count) {
  if (batch == "full") {
    full_ = true;
    return;
  }
  const auto [end, error] = std::from_chars(batch.data(), batch.data() + batch.size(), size_);
  require(error == std::errc() && end == batch.data() + batch.size() && size_ > 0,
          "run.batch = '{}'; give a number of samples per worker per step, or \"full\"", batch);
}

const std::vector<std::size_t>& Batches::order(std::size_t j, std::uint64_t pass) {
  if (cached_pass_[j] == pass) return cached_order_[j];
  const std::size_t worker = group_.first + j;
  std::vector<std::size_t>& order = cached_order_[j];
  order = shards_[worker];
  RandomStream rng(seed_, Purpose::kBatch, pass, 0, static_cast<std::uint32_t>(worker));
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  cached_pass_[j] = pass;
  return order;
}

std::span<const std::size_t> Batches::batch(std::size_t j, std::uint64_t step) {
  const std::vector<std::size_t>& shard = shards_[group_.first + j];
  if (full_) return shard;
  std::vector<std::size_t>& out = current_[j];
  out.clear();
  const std::uint64_t first = step * size_;
  for (std::size_t k = 0; k < size_; ++k) {
    const std::uint64_t position = first + k;
    out.push_back(order(j, position / shard.size())[position % shard.size()]);
  }
  return out;
}

std::uint64_t Batches::steps_per_epoch(std::size_t samples, std::size_t workers) const {
  if (full_) return 1;
  const std::size_t per_step = workers * size_;
  return std::max<std::uint64_t>(1, (samples + per_step - 1) / per_step);
}

}  // namespace gradcomp
