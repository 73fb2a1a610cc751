// The training configuration (train/config.hpp, docs/config.md): keys, overrides, the embedded
// default, and the exact error for each kind of mistake.
#include "gradcomp/train/config.hpp"

#include <gtest/gtest.h>

#include "gradcomp/core/error.hpp"

namespace gradcomp {
namespace {

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    (void)parse_config(text, "test.toml", overrides);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainConfig, TheDefaultRun) {
  const TrainConfig c = parse_config(default_config_toml(), "default", {});
  EXPECT_EQ(c.data_source, "fashion-mnist");
  EXPECT_EQ(c.workers, 8U);
  EXPECT_EQ(c.choice.algorithm, "def:kappa=0.3,momentum=0.9");
  EXPECT_EQ(c.choice.compressor, "rbgs:ratio=64");
  EXPECT_EQ(c.schedule, "step:lr=0.03,epochs=6");
  EXPECT_EQ(c.epochs, 8U);
  EXPECT_EQ(c.batch, "32");
}

TEST(TrainConfig, OverridesAndSpecsRoundTrip) {
  const TrainConfig c =
      parse_config(default_config_toml(), "default",
                   {"algorithm.kappa=0.5", "compressor.ratio=16", "run.batch=full", "workers.n=4",
                    "algorithm.lr=0.2", "data.source=\"generate\""});
  EXPECT_EQ(c.choice.algorithm, "def:kappa=0.5,momentum=0.9");
  EXPECT_EQ(c.choice.compressor, "rbgs:ratio=16");
  EXPECT_EQ(c.batch, "full");
  EXPECT_EQ(c.workers, 4U);
  EXPECT_EQ(c.schedule, "step:lr=0.03,epochs=6");  // an explicit schedule wins over lr
  EXPECT_EQ(c.data_source, "generate");
  // The resolved TOML parses back to the same configuration.
  const TrainConfig again = parse_config(c.to_toml(), "resolved", {});
  EXPECT_EQ(again.choice.algorithm, c.choice.algorithm);
  EXPECT_EQ(again.choice.compressor, c.choice.compressor);
  EXPECT_EQ(again.schedule, c.schedule);
  EXPECT_EQ(again.batch, c.batch);
  EXPECT_EQ(again.workers, c.workers);
}

// README's "the same run uncompressed": naming another algorithm or compressor starts that
// section from the new choice's defaults (def's kappa once leaked into sgd, which refused it);
// the schedule and the quantizer stay, and parameters given with the new name apply.
TEST(TrainConfig, ANewNameStartsItsSectionFromThatChoicesDefaults) {
  const TrainConfig plain =
      parse_config(default_config_toml(), "default",
                   {"algorithm.name=sgd", "compressor.name=identity", "run.epochs=3"});
  EXPECT_EQ(plain.choice.algorithm, "sgd");
  EXPECT_EQ(plain.choice.compressor, "identity");
  EXPECT_EQ(plain.schedule, "step:lr=0.03,epochs=6");
  EXPECT_NO_THROW(validate_specs(plain));
  const TrainConfig topk = parse_config(default_config_toml(), "default",
                                        {"compressor.ratio=0.01", "compressor.name=\"topk\""});
  EXPECT_EQ(topk.choice.compressor, "topk:ratio=0.01");
  // The same name keeps the section's other parameters.
  const TrainConfig same =
      parse_config(default_config_toml(), "default", {"algorithm.name=def", "algorithm.kappa=0.5"});
  EXPECT_EQ(same.choice.algorithm, "def:kappa=0.5,momentum=0.9");
}

// A section given as a spec (how a run's config.toml writes it) with a name or parameters beside
// it is refused (the spec silently won); a --set of a name or parameter turns the spec into name
// and keys first, so overriding a run's own config.toml works as overriding any other.
TEST(TrainConfig, ASpecWithParametersBesideItIsRefusedAndSetExpandsIt) {
  EXPECT_EQ(error_of("[compressor]\nspec = \"topk:k=2\"\nk = 3\n"),
            "compressor.spec = 'topk:k=2' and compressor.k are both given: the spec already names "
            "the compressor and its parameters; give either spec or name with parameters");
  EXPECT_EQ(error_of("[algorithm]\nspec = \"def:kappa=0.5\"\nname = \"sgd\"\n"),
            "algorithm.spec = 'def:kappa=0.5' and algorithm.name are both given: the spec already "
            "names the algorithm and its parameters; give either spec or name with parameters");
  const std::string written =
      "[algorithm]\nspec = \"def:kappa=0.5,momentum=0.9\"\n"
      "schedule = \"constant:lr=0.1\"\n[compressor]\nspec = \"topk:k=2\"\n";
  EXPECT_EQ(parse_config(written, "run", {}).choice.compressor, "topk:k=2");
  EXPECT_EQ(parse_config(written, "run", {"compressor.k=5"}).choice.compressor, "topk:k=5");
  const TrainConfig renamed = parse_config(written, "run", {"algorithm.name=sgd"});
  EXPECT_EQ(renamed.choice.algorithm, "sgd");  // kappa and momentum are def's alone
  EXPECT_EQ(renamed.schedule, "constant:lr=0.1");
  // Setting a spec replaces the section's name and parameters (the default's def and kappa).
  EXPECT_EQ(
      parse_config(default_config_toml(), "default", {"algorithm.spec=\"sgd\""}).choice.algorithm,
      "sgd");
  EXPECT_EQ(
      parse_config(written, "run", {"algorithm.schedule=\"constant:lr=0.2\""}).choice.algorithm,
      "def:kappa=0.5,momentum=0.9");
}

TEST(TrainConfig, ErrorsNameTheKeyAndTheFix) {
  EXPECT_EQ(error_of("[optimizer]\nname = \"sgd\"\n"),
            "test.toml: unknown section [optimizer]; sections: algorithm, compressor, data, "
            "model, network, run, workers");
  EXPECT_EQ(error_of("[run]\nepoch = 3\n"),
            "test.toml: unknown key run.epoch; keys of [run]: epochs, steps, batch, eval_every, "
            "seed, precision, save_model, checkpoint_every, gradient_geometry, train_eval_samples, "
            "out");
  EXPECT_EQ(error_of("[run]\nprecision = \"half\"\n"),
            "run.precision = 'half'; choose float or double");
  EXPECT_EQ(error_of("[run]\nepochs = -2\n"), "run.epochs must be a whole number >= 0");
  // Floats: a whole value is a count; beyond 64 bits, fractional or not finite it is refused
  // (fuzz_config's input: workers.n = 201e300 was undefined behaviour inside toml++).
  EXPECT_EQ(parse_config("[run]\nepochs = 3e1\n", "test.toml", {}).epochs, 30U);
  EXPECT_EQ(error_of("[workers]\nn = 201e300\n"), "workers.n must be a whole number >= 0");
  EXPECT_EQ(error_of("[workers]\nn = 9.3e18\n"), "workers.n must be a whole number >= 0");
  EXPECT_EQ(error_of("[run]\nepochs = 2.5\n"), "run.epochs must be a whole number >= 0");
  EXPECT_EQ(error_of("[run]\nsteps = inf\n"), "run.steps must be a whole number >= 0");
  EXPECT_EQ(error_of("[run]\nsteps = nan\n"), "run.steps must be a whole number >= 0");
  EXPECT_EQ(error_of("[run\n"),
            "test.toml:1:5: Error while parsing table header: expected ']', saw '\\n'");
  EXPECT_EQ(error_of("algorithm.algoritm.name = \"def\"\n"),
            "test.toml: unknown key algorithm.algoritm.name: keys of [algorithm] hold values, not "
            "tables (a dotted key?)");
  EXPECT_EQ(error_of("[run]\nepochs.count = 3\n"),
            "test.toml: unknown key run.epochs.count: keys of [run] hold values, not tables (a "
            "dotted key?)");
  EXPECT_EQ(error_of("", {"algorithm"}),
            "--set 'algorithm': expected section.key=value, e.g. --set algorithm.kappa=0.5");
}

TEST(TrainConfig, StepUnitStartAndSubsets) {
  const TrainConfig c = parse_config(
      "", "test.toml",
      {"algorithm.lr_unit=1/L", "model.init=\"optimum:offset=0.005\"", "data.train_samples=100",
       "data.test_samples=20", "data.validation_samples=30"});
  EXPECT_EQ(c.lr_unit, "1/L");
  EXPECT_EQ(c.init, "optimum:offset=0.005");
  EXPECT_EQ(c.train_samples, 100U);
  const TrainConfig again = parse_config(c.to_toml(), "resolved", {});
  EXPECT_EQ(again.lr_unit, "1/L");
  EXPECT_EQ(again.init, c.init);
  EXPECT_EQ(again.train_samples, 100U);
  EXPECT_EQ(again.test_samples, 20U);
  EXPECT_EQ(again.validation_samples, 30U);
  EXPECT_EQ(error_of("", {"algorithm.lr_unit=L"}),
            "algorithm.lr_unit = 'L'; choose \"1\" (rates as given) or \"1/L\" (multiples of 1/L, "
            "convex models)");
  EXPECT_EQ(error_of("", {"model.init=zeros"}),
            "model.init = 'zeros'; choose \"default\" or \"optimum:offset=c\" (x* + c, convex "
            "models)");
  EXPECT_EQ(error_of("", {"data.train_samples=-1"}),
            "data.train_samples must be a whole number >= 0");
}

TEST(TrainConfig, SpecsAreValidatedAgainstTheRegistries) {
  EXPECT_NO_THROW(validate_specs(parse_config(default_config_toml(), "default", {})));
  EXPECT_THROW(validate_specs(parse_config(default_config_toml(), "default", {"algorithm.lrr=1"})),
               InvalidInput);
  EXPECT_THROW(
      validate_specs(parse_config(default_config_toml(), "default", {"compressor.name=topkk"})),
      InvalidInput);
  EXPECT_THROW(validate_specs(parse_config(default_config_toml(), "default",
                                           {"algorithm.schedule=\"stepp:lr=1\""})),
               InvalidInput);
}

}  // namespace
}  // namespace gradcomp
