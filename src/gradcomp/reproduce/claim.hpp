#pragma once
// A reproduction's claim as a checkable expression (docs/reproduction.md "Checks"):
//
//   accuracy(def-256) >= accuracy(sgd) - 1.0 and (diverged(ef-256) > 0 or accuracy(ef-256) <= 80)
//
// Grammar: or / and over comparisons (<, <=, >, >=); + − * / and unary minus over numbers and
// calls name(arm, number...). Arguments are arm ids (letters, digits, '-', '_', '.') or numbers.
// Parsing is separate from evaluation so that an experiment's checks are validated (unknown
// functions, unknown arms, arity) before any run starts.
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gradcomp {

struct ClaimCall {
  std::string function;
  std::string arm;                 // the first argument
  std::vector<double> parameters;  // the numeric arguments after it
  std::string text;                // as written, for the report
};

// Values of calls; throws InvalidInput for an unknown function or arm, or a wrong argument count.
using ClaimSource = std::function<double(const ClaimCall&)>;

struct ClaimOutcome {
  bool holds = false;
  // Each comparison with its evaluated sides, e.g. "accuracy(def-256) = 85.12 >= accuracy(sgd) -
  // 1.0 = 84.30: yes".
  std::vector<std::string> comparisons;
};

class Claim {
 public:
  // Throws InvalidInput naming the expression and the position of a syntax error.
  explicit Claim(const std::string& expression);
  ~Claim();
  Claim(Claim&&) noexcept;
  Claim& operator=(Claim&&) noexcept;

  [[nodiscard]] const std::string& expression() const { return expression_; }
  // Every call of the expression (for validation before anything runs).
  [[nodiscard]] std::vector<ClaimCall> calls() const;
  [[nodiscard]] ClaimOutcome evaluate(const ClaimSource& source) const;

  struct Node;

 private:
  std::string expression_;
  std::unique_ptr<Node> root_;
};

}  // namespace gradcomp
