// WorkerCompression::send_keeping_error (error feedback's memory, e ← p − s·C(p/s)): with p in
// e's own storage and a message carrying few coordinates only those are updated (the decode given
// as carried coordinates); the result must be the dense rule's, bit for bit (−0 included), with
// the same ‖e‖², for every compressor and both scales.
#include <gtest/gtest.h>

#include <vector>

#include "../test_support.hpp"
#include "gradcomp/algo/worker_compression.hpp"

namespace gradcomp::testing {
namespace {

template <class T>
void expect_dense_rule(const std::string& spec, T scale) {
  const std::size_t d = 1000;  // the sparse form is taken for at most d/64 = 15 coordinates
  const Layout layout = Layout::flat(d);
  WorkerCompression<T> memory(spec, layout, 11, {1, 0, 1, 1});
  std::vector<T> p = gaussian_vector<T>(d, 3);
  for (std::size_t i = 0; i < d; i += 97) p[i] = T(-0.0);
  for (std::size_t i = 5; i < d; i += 101) p[i] *= T(50);  // kept by the threshold
  for (std::uint64_t step = 0; step < 3; ++step) {
    // The dense rule, from the message a fresh instance decodes.
    std::vector<T> input(d);
    for (std::size_t i = 0; i < d; ++i) input[i] = p[i] * (T{1} / scale);  // p/s as p·(1/s)
    auto sender = make_compressor(spec);
    const StepContext context = memory.context_of(step, 0);
    const Message message = sender->encode(std::span<const T>(input), layout, context);
    std::vector<T> decoded(d);
    sender->decode(message, layout, context, std::span<T>(decoded));
    std::vector<T> expected(d);
    double expected_norm = 0;
    for (std::size_t i = 0; i < d; ++i) expected[i] = p[i] - scale * decoded[i];
    expected_norm = elementwise<T>().squared_norm(expected.data(), d);

    std::vector<T> e = p;  // p in e's storage
    const double norm =
        memory.send_keeping_error(0, std::span<const T>(e), std::span<T>(e), step, scale);
    EXPECT_EQ(memory.messages()[0].bytes, message.bytes) << spec;
    EXPECT_EQ(object_bytes(e), object_bytes(expected)) << spec << ", " << scale;
    EXPECT_EQ(norm, expected_norm) << spec;
    p = e;
    for (std::size_t i = 0; i < d; i += 7) p[i] += T(0.25);
  }
}

TEST(ErrorMemory, FewCarriedCoordinatesGiveTheDenseRulesBits) {
  for (const char* spec : {"threshold:lambda=2.5", "threshold:lambda=0.01", "topk:k=10",
                           "topk:k=300", "randk:k=12,shared=false", "randk:k=12,unbiased=true",
                           "rbgs:ratio=100", "rbgs:ratio=4", "sign", "qsgd:levels=4"}) {
    expect_dense_rule<float>(spec, 1.0F);
    expect_dense_rule<float>(spec, 0.3F);
    expect_dense_rule<double>(spec, 1.0);
    expect_dense_rule<double>(spec, 0.3);
  }
}

}  // namespace
}  // namespace gradcomp::testing
