#pragma once
// The results of an experiment's arm over its seeds, read back from the run directories, and the
// functions a check may call on them (docs/reproduction.md "Checks" lists them).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradcomp/reproduce/claim.hpp"
#include "gradcomp/reproduce/experiment.hpp"

namespace gradcomp {

struct SeedRun {
  std::string directory;
  std::vector<nlohmann::json> records;  // metrics.jsonl
  bool diverged = false;                // the trainer stopped on NaN/Inf (diverged.txt says where)
  // Finished at chance level without a NaN (summary.json's "collapsed", train/collapse.hpp): its
  // accuracy still counts in the means, and the tables say how many seeds collapsed.
  bool collapsed = false;
};

struct ArmResults {
  Arm arm;
  std::vector<SeedRun> seeds;
};

// Reads a finished run directory (metrics.jsonl; diverged.txt marks a diverged run, summary.json's
// "collapsed" a collapsed one).
SeedRun read_seed_run(const std::string& directory);

// Throws InvalidInput for an unknown function or a wrong number of arguments.
void validate_call(const ClaimCall& call);

// Every check's calls and every table's function (before any run: a misspelt function would
// otherwise stop the reproduction only when its report is written).
void validate_functions(const Experiment& experiment);

// The value of a check's call: the mean over seeds (std_NAME: the sample standard deviation) of
// the per-run value; diverged runs count only in diverged(), and NaN when every seed diverged.
// collapsed(arm) is the fraction of seeds that collapsed.
double call_value(const ArmResults& arm, const ClaimCall& call);

// How many of the arm's seeds diverged and collapsed.
std::size_t diverged_seeds(const ArmResults& arm);
std::size_t collapsed_seeds(const ArmResults& arm);

// One line per function for error messages and docs: "accuracy(arm): final test accuracy (%)".
std::vector<std::string> claim_functions();

}  // namespace gradcomp
