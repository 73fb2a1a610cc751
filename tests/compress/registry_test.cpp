#include "gradcomp/compress/registry.hpp"

#include <gtest/gtest.h>

namespace gradcomp {
namespace {

std::string error_of(const std::string& spec) {
  try {
    make_compressor(spec);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Registry, EveryEntryBuildsWithDefaultsAndNamesItself) {
  EXPECT_EQ(compressor_entries().size(), 15U);
  for (const auto& entry : compressor_entries()) {
    const auto c = make_compressor(entry.name);
    EXPECT_EQ(c->name(), entry.name);
    EXPECT_EQ(c->spec().substr(0, entry.name.size()), entry.name);
    EXPECT_FALSE(entry.summary.empty());
    EXPECT_FALSE(entry.wire.empty());
  }
}

TEST(Registry, CanonicalSpecFillsDefaults) {
  EXPECT_EQ(make_compressor("topk:ratio=0.001")->spec(),
            "topk:ratio=0.001,scope=model,index=auto,values=auto");
  EXPECT_EQ(make_compressor("rbgs")->spec(), "rbgs:ratio=64,scope=layer,values=auto");
  EXPECT_EQ(make_compressor("sign")->spec(), "sign");
}

// docs/wire-format.md's fingerprint, computed here from its statement: FNV-1a over the canonical
// spec's bytes, then for each layer its size, its number of dimensions and each dimension as 8
// little-endian bytes, folded to 16 bits (h ^ h >> 16 ^ h >> 32 ^ h >> 48). Messages of one version
// must keep it, or receivers of another refuse them.
TEST(Registry, TheFingerprintIsTheDocumentedHash) {
  const Layout layout = Layout::from_shapes({{3, 2}, {6}, {1, 4, 5}});
  for (const std::string spec : {"topk:ratio=0.25", "rbgs:ratio=4", "sign", "qsgd:levels=16"}) {
    const auto compressor = make_compressor(spec);
    std::uint64_t hash = 0xCBF29CE484222325ULL;
    const auto add = [&](std::uint64_t byte) {
      hash ^= byte;
      hash *= 0x100000001B3ULL;
    };
    for (const char c : compressor->spec()) add(static_cast<unsigned char>(c));
    const auto add_number = [&](std::uint64_t v) {
      for (int shift = 0; shift < 64; shift += 8) add((v >> shift) & 0xFFU);
    };
    for (const Block& block : layout.blocks()) {
      add_number(block.size);
      add_number(block.shape.size());
      for (const std::size_t dim : block.shape) add_number(dim);
    }
    const auto expected =
        static_cast<std::uint16_t>(hash ^ (hash >> 16) ^ (hash >> 32) ^ (hash >> 48));
    std::vector<float> x(layout.total_size(), 0.5F);
    const Message message = compressor->encode(x, layout, {});
    ASSERT_GE(message.bytes.size(), 8U);
    const auto stored = static_cast<std::uint16_t>(message.bytes[6] | (message.bytes[7] << 8));
    EXPECT_EQ(stored, expected) << spec;
  }
}

TEST(Registry, ErrorsListWhatIsValid) {
  EXPECT_EQ(
      error_of("nope"),
      "unknown compressor 'nope'; valid compressors: identity, fp16, topk, randk, rbgs, "
      "threshold, scaledsign, blocksign, sign, qsgd, terngrad, sketch, round, powersgd, scale");
  EXPECT_EQ(error_of("topk:ration=0.1"),
            "topk: unknown parameter 'ration'; parameters of topk: k [0, 4294967295], ratio (0, "
            "1], scope model|layer, index auto|fixed|rice, values auto|fp32|fp16|fp64");
  EXPECT_EQ(error_of("topk:ratio=0"),
            "topk: parameter ratio=0 is out of range; valid range (0, 1]");
  EXPECT_EQ(error_of("topk:ratio=1.5"),
            "topk: parameter ratio=1.5 is out of range; valid range (0, 1]");
  EXPECT_EQ(error_of("qsgd:levels=2.5"),
            "qsgd: parameter levels='2.5' must be an integer in [1, 1048576]");
  EXPECT_EQ(error_of("qsgd:levels=many"),
            "qsgd: parameter levels='many' is not a number; valid range [1, 1048576]");
  EXPECT_EQ(error_of("topk:k=5,ratio=0.1"),
            "topk: give either k (a count) or ratio (a density), not both");
  EXPECT_EQ(error_of("topk:scope=row"), "topk: parameter scope='row' is not one of model|layer");
  EXPECT_EQ(error_of("randk:shared=yes"), "randk: parameter shared='yes' must be true or false");
  EXPECT_EQ(error_of("rbgs:ratio"),
            "rbgs: 'ratio' is not key=value; parameters of rbgs: ratio [1, 1000000000000], scope "
            "model|layer, values auto|fp32|fp16|fp64");
  EXPECT_EQ(error_of("threshold:lambda=1,lambda=2"), "threshold: parameter 'lambda' given twice");
  EXPECT_EQ(error_of("sign:values=fp16"),
            "sign: unknown parameter 'values'; parameters of sign: none");
  EXPECT_EQ(error_of("round:eps=0"),
            "round: parameter eps=0 is out of range; valid range (0, 1e+300]");
}

}  // namespace
}  // namespace gradcomp
