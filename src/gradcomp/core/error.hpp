#pragma once
// One exception hierarchy for the whole project (docs/cli.md, exit codes). The command line maps
// each kind to an exit code in one place (cli/main.cpp): bad input 2, peer or I/O failure 3,
// internal bug 70.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <type_traits>

namespace gradcomp {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user gave something we cannot use: a file, a spec, a parameter, a vector with NaN.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// A NaN or an infinity where a finite number is needed (a compressor's input): in training, the
// sign of a run that diverged.
class NonFiniteInput : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

// A value an encoder computed from finite input that its wire format cannot hold (|v| ≥ 65520 in
// fp16, a double beyond float's range in fp32, a rescaled value beyond T's): what
// Compressor::encode reports, with the compressor's name in front, instead of sending an infinity
// that every receiver would refuse as corrupt.
class ValueOverflow : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

// A training run whose gradients or model became NaN or infinite (exit code 2 like bad input: the
// configuration's step size or compression is the thing to change). The reproduction suite counts
// these runs as diverged instead of stopping.
class Diverged : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

// A long job (the reproduction suite) stopped by SIGINT/SIGTERM between or inside its runs: exit
// code 130 like an interrupted `gradcomp train`.
class Interrupted : public Error {
 public:
  using Error::Error;
};

// A message that does not decode: truncated, corrupt, or made by another compressor or setting.
class DecodeError : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

// Raised identically on every rank of a distributed job, because all of them saw the same gathered
// data (a handshake mismatch): no rank needs to abort the others, rank 0 alone reports it.
class AgreedError : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

// Reading or writing a file failed for reasons outside the data itself.
class IoError : public Error {
 public:
  using Error::Error;
};

// A broken invariant inside gradcomp: a bug, never the user's fault.
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
// The throwing half of require, kept out of line: inlined, the formatting and the throw made every
// caller too large to inline require itself, and a decode loop then called it once per element
// (its registers spilled around the call). The arguments come by value: by reference, each one's
// address was taken, and a decode loop stored the index it checks to the stack on every element.
template <class E, class... Args>
[[noreturn, gnu::cold, gnu::noinline]] void fail(fmt::string_view format, Args... args) {
  throw E(fmt::vformat(format, fmt::make_format_args(args...)));
}
}  // namespace detail

// Throws E with the formatted message unless condition holds. Like any function's, its arguments
// are evaluated even when the check holds: on a hot path, compute a costly one once beforehand.
// The check is inlined (a compare and a branch); only a failure calls out (the format string is
// checked here, at compile time).
template <class E = InvalidInput, class... Args>
[[gnu::always_inline]] inline void require(bool condition, fmt::format_string<Args...> format,
                                           Args&&... args) {
  if (!condition) [[unlikely]] {
    detail::fail<E, std::decay_t<Args>...>(fmt::string_view(format), args...);
  }
}

}  // namespace gradcomp
