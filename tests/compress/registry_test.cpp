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
