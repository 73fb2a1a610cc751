#include "gradcomp/reproduce/claim.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

struct Claim::Node {
  enum class Kind { kNumber, kCall, kNegate, kBinary, kCompare, kAnd, kOr };
  Kind kind = Kind::kNumber;
  double number = 0;
  ClaimCall call;
  std::string op;  // + - * / < <= > >=
  std::unique_ptr<Node> left;
  std::unique_ptr<Node> right;
  std::string text;  // the source text of this node
};

namespace {

using Node = Claim::Node;

bool is_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

// Recursive descent over the expression text; every node keeps its source text.
class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  std::unique_ptr<Node> parse() {
    auto root = disjunction();
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidInput(
        fmt::format("check '{}': {} at position {} ('{}'); write e.g. "
                    "\"accuracy(def) >= accuracy(sgd) - 1\"",
                    text_, what, pos_ + 1, text_.substr(pos_, 12)));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0)
      ++pos_;
  }

  bool accept(const std::string& token) {
    skip_space();
    if (text_.compare(pos_, token.size(), token) != 0) return false;
    const bool word = std::isalpha(static_cast<unsigned char>(token[0])) != 0;
    if (word && pos_ + token.size() < text_.size() && is_id_char(text_[pos_ + token.size()]))
      return false;
    pos_ += token.size();
    return true;
  }

  std::unique_ptr<Node> join(Node::Kind kind, std::string op, std::unique_ptr<Node> left,
                             std::unique_ptr<Node> right) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->op = std::move(op);
    node->text = left->text + " " + node->op + " " + right->text;
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  std::unique_ptr<Node> disjunction() {
    auto node = conjunction();
    while (accept("or")) node = join(Node::Kind::kOr, "or", std::move(node), conjunction());
    return node;
  }

  std::unique_ptr<Node> conjunction() {
    auto node = comparison();
    while (accept("and")) node = join(Node::Kind::kAnd, "and", std::move(node), comparison());
    return node;
  }

  std::unique_ptr<Node> comparison() {
    auto node = sum();
    for (const char* op : {"<=", ">=", "<", ">"}) {
      if (accept(op)) return join(Node::Kind::kCompare, op, std::move(node), sum());
    }
    return node;
  }

  std::unique_ptr<Node> sum() {
    auto node = product();
    for (;;) {
      if (accept("+")) {
        node = join(Node::Kind::kBinary, "+", std::move(node), product());
      } else if (accept("-")) {
        node = join(Node::Kind::kBinary, "-", std::move(node), product());
      } else {
        return node;
      }
    }
  }

  std::unique_ptr<Node> product() {
    auto node = unary();
    for (;;) {
      if (accept("*")) {
        node = join(Node::Kind::kBinary, "*", std::move(node), unary());
      } else if (accept("/")) {
        node = join(Node::Kind::kBinary, "/", std::move(node), unary());
      } else {
        return node;
      }
    }
  }

  std::unique_ptr<Node> unary() {
    if (accept("-")) {
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kNegate;
      node->left = unary();
      node->text = "-" + node->left->text;
      return node;
    }
    return primary();
  }

  std::unique_ptr<Node> primary() {
    skip_space();
    if (accept("(")) {
      auto inner = disjunction();
      if (!accept(")")) fail("expected ')'");
      inner->text = "(" + inner->text + ")";
      return inner;
    }
    if (pos_ < text_.size() &&
        (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.'))
      return number();
    if (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_])) != 0)
      return call();
    fail(pos_ == text_.size() ? "unexpected end" : "expected a number, a call or '('");
  }

  std::unique_ptr<Node> number() {
    const char* begin = text_.c_str() + pos_;
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    if (end == begin) fail("expected a number");
    auto node = std::make_unique<Node>();
    node->number = value;
    node->text = std::string(begin, static_cast<std::size_t>(end - begin));
    pos_ += static_cast<std::size_t>(end - begin);
    return node;
  }

  std::unique_ptr<Node> call() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_'))
      ++pos_;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kCall;
    node->call.function = text_.substr(start, pos_ - start);
    if (!accept("(")) fail("expected '(' after " + node->call.function);
    std::vector<std::string> arguments;
    for (;;) {
      skip_space();
      const std::size_t arg_start = pos_;
      while (pos_ < text_.size() && is_id_char(text_[pos_])) ++pos_;
      if (pos_ == arg_start) fail("expected an arm id or a number");
      arguments.push_back(text_.substr(arg_start, pos_ - arg_start));
      if (accept(")")) break;
      if (!accept(",")) fail("expected ',' or ')'");
    }
    node->call.arm = arguments.front();
    for (std::size_t k = 1; k < arguments.size(); ++k) {
      char* end = nullptr;
      const double value = std::strtod(arguments[k].c_str(), &end);
      if (*end != '\0') fail(fmt::format("argument '{}' is not a number", arguments[k]));
      node->call.parameters.push_back(value);
    }
    node->text = text_.substr(start, pos_ - start);
    node->call.text = node->text;
    return node;
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

void collect_calls(const Node& node, std::vector<ClaimCall>& out) {
  if (node.kind == Node::Kind::kCall) out.push_back(node.call);
  if (node.left) collect_calls(*node.left, out);
  if (node.right) collect_calls(*node.right, out);
}

std::string shown(double v) {
  return fmt::format("{:.4g}", v);
}

double evaluate_node(const Node& node, const ClaimSource& source, ClaimOutcome& outcome) {
  switch (node.kind) {
    case Node::Kind::kNumber:
      return node.number;
    case Node::Kind::kCall:
      return source(node.call);
    case Node::Kind::kNegate:
      return -evaluate_node(*node.left, source, outcome);
    case Node::Kind::kBinary: {
      const double a = evaluate_node(*node.left, source, outcome);
      const double b = evaluate_node(*node.right, source, outcome);
      if (node.op == "+") return a + b;
      if (node.op == "-") return a - b;
      if (node.op == "*") return a * b;
      return a / b;
    }
    case Node::Kind::kCompare: {
      const double a = evaluate_node(*node.left, source, outcome);
      const double b = evaluate_node(*node.right, source, outcome);
      // NaN (a metric no run produced) makes every comparison false, and so do two infinities
      // (time_to on two arms that never reach the target says nothing about which is faster).
      const bool comparable = !(std::isinf(a) && std::isinf(b));
      const bool holds = comparable && (node.op == "<"    ? a < b
                                        : node.op == "<=" ? a <= b
                                        : node.op == ">"  ? a > b
                                                          : a >= b);
      outcome.comparisons.push_back(fmt::format("{} = {} {} {} = {}: {}", node.left->text, shown(a),
                                                node.op, node.right->text, shown(b),
                                                holds ? "yes" : "no"));
      return holds ? 1 : 0;
    }
    case Node::Kind::kAnd: {
      const bool a = evaluate_node(*node.left, source, outcome) != 0;
      const bool b = evaluate_node(*node.right, source, outcome) != 0;
      return a && b ? 1 : 0;
    }
    case Node::Kind::kOr: {
      const bool a = evaluate_node(*node.left, source, outcome) != 0;
      const bool b = evaluate_node(*node.right, source, outcome) != 0;
      return a || b ? 1 : 0;
    }
  }
  return NAN;
}

}  // namespace

Claim::Claim(const std::string& expression)
    : expression_(expression), root_(Parser(expression_).parse()) {}
Claim::~Claim() = default;
Claim::Claim(Claim&&) noexcept = default;
Claim& Claim::operator=(Claim&&) noexcept = default;

std::vector<ClaimCall> Claim::calls() const {
  std::vector<ClaimCall> out;
  collect_calls(*root_, out);
  return out;
}

ClaimOutcome Claim::evaluate(const ClaimSource& source) const {
  ClaimOutcome outcome;
  const double value = evaluate_node(*root_, source, outcome);
  outcome.holds = std::isfinite(value) && value != 0;
  return outcome;
}

}  // namespace gradcomp
