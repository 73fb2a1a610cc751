// Uses gradcomp as another project would: compress, exchange among 4 workers in one process, run
// an algorithm. Exits 1, saying what differs, if a number is not the one the library defines.
#include <cmath>
#include <cstdio>
#include <vector>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/exchange.hpp"

namespace {

int failures = 0;

void expect(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "consumer: %s does not hold\n", what);
    ++failures;
  }
}

// Top-k with k = 2 keeps exactly the two largest magnitudes, and its message is the 16-byte header
// plus the body: the bits are the bytes' bits.
void compress_top2() {
  const std::vector<float> x = {0.5F, -4.0F, 1.0F, 3.0F, -0.25F, 2.0F, 0.0F, -1.5F};
  const auto layout = gradcomp::Layout::flat(x.size());
  auto topk = gradcomp::make_compressor("topk:k=2");
  const gradcomp::StepContext step{1, 0, 0};
  const gradcomp::Message message = topk->encode(std::span<const float>(x), layout, step);
  std::vector<float> decoded(x.size());
  topk->decode(message, layout, step, std::span<float>(decoded));
  expect(decoded == std::vector<float>{0, -4.0F, 0, 3.0F, 0, 0, 0, 0}, "Top-2 keeps -4 and 3");
  expect(message.bits() == 8 * message.size_bytes(), "bits = 8 * bytes");
  expect(message.size_bytes() > gradcomp::MessageHeader::kBytes, "the message has a body");
}

// Identity messages of workers 1..4 allgathered with weight 1/4: the mean, 2.5, exactly.
void exchange_mean() {
  const std::size_t n = 4, d = 16;
  gradcomp::LocalCommunicator communicator;
  gradcomp::Exchange exchange(communicator, gradcomp::WorkerGroup::split(n, communicator));
  auto identity = gradcomp::make_compressor("identity");
  const auto layout = gradcomp::Layout::flat(d);
  std::vector<gradcomp::Message> messages;
  for (std::uint32_t worker = 0; worker < n; ++worker) {
    const std::vector<float> gradient(d, static_cast<float>(worker + 1));
    messages.push_back(identity->encode(std::span<const float>(gradient), layout, {1, 0, worker}));
  }
  std::vector<float> mean(d);
  exchange.allgather<float>({*identity, layout, 1, 0, messages}, std::span<float>(mean), 0.25F);
  expect(mean == std::vector<float>(d, 2.5F), "the allgathered mean is 2.5");
}

// SGD with identity on f_j(x) = ½‖x − j‖², j = 0..3, step 0.5: x halves its distance to the
// optimum 1.5 every step, so 60 steps reach it to float precision.
void sgd_converges() {
  const std::size_t n = 4, d = 8;
  gradcomp::LocalCommunicator communicator;
  gradcomp::Exchange exchange(communicator, gradcomp::WorkerGroup::split(n, communicator));
  const auto layout = gradcomp::Layout::flat(d);
  auto sgd = gradcomp::make_algorithm<double>({exchange, layout, 1, {"sgd", "identity"}});
  sgd->start(std::vector<double>(d, 10.0));
  std::vector<std::vector<double>> gradients(n, std::vector<double>(d));
  for (std::uint64_t t = 0; t < 60; ++t) {
    std::vector<std::span<const double>> views;
    for (std::size_t j = 0; j < n; ++j) {
      const auto x = sgd->query_point(j);
      for (std::size_t i = 0; i < d; ++i) gradients[j][i] = x[i] - static_cast<double>(j);
      views.emplace_back(gradients[j]);
    }
    sgd->step(views, {t, 0.5, t == 0 ? 0.0 : 0.5});
  }
  expect(std::abs(sgd->model()[0] - 1.5) < 1e-12, "SGD reaches the optimum 1.5");
}

}  // namespace

int main() {
  compress_top2();
  exchange_mean();
  sgd_converges();
  if (failures == 0) std::printf("consumer: compress, exchange and algo as installed: ok\n");
  return failures == 0 ? 0 : 1;
}
