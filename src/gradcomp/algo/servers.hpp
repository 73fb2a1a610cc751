#pragma once
// The server sides of the two-way pattern (exchange/exchange.hpp ServerRole):
//   RelayServer          [Heterogeneous]'s parameter server (docs/algorithms.md §3.4, §3.12–3.15):
//   it averages
//                        the workers' messages, optionally turns the mean into its answer with its
//                        own state (DIANA's ĝ = h + mean), and broadcasts the answer uncompressed.
//                        The paper broadcasts x_{t+1}; every replica holds x_t, so the update
//                        costs the same d values and every replica applies it identically.
//   CollectServer        the server only collects (ef-bc's shift messages): no answer.
//   ErrorFeedbackServer  dist-EF-SGD's server (§3.8): p̃ = mean + (γ_{t−1}/γ_t)ẽ, answers C(p̃),
//                        keeps ẽ = p̃ − C(p̃).
#include <functional>
#include <memory>
#include <string>

#include "gradcomp/compress/registry.hpp"
#include "gradcomp/exchange/exchange.hpp"

namespace gradcomp {

template <class T>
class RelayServer final : public ServerRole<T> {
 public:
  // answer = transform(mean); without a transform the answer is the mean itself.
  using Transform = std::function<void(std::span<const T> mean, std::span<T> answer)>;

  explicit RelayServer(const Layout& layout, Transform transform = {})
      : codec_(make_compressor("identity")),
        layout_(layout),
        transform_(std::move(transform)),
        answer_values_(transform_ ? layout.total_size() : 0) {}

  [[nodiscard]] const Compressor& answer_codec() const override { return *codec_; }
  const Message& answer(std::span<const T> aggregate, const StepContext& context) override {
    if (!transform_) {
      codec_->encode(aggregate, layout_, context, answer_);
      return answer_;
    }
    transform_(aggregate, std::span<T>(answer_values_));
    codec_->encode(std::span<const T>(answer_values_), layout_, context, answer_);
    return answer_;
  }

 private:
  std::unique_ptr<Compressor> codec_;
  const Layout& layout_;
  Transform transform_;
  std::vector<T> answer_values_;
  Message answer_;
};

template <class T>
class CollectServer final : public ServerRole<T> {
 public:
  // collect(mean): what the server does with the mean of the messages it received.
  explicit CollectServer(std::function<void(std::span<const T>)> collect)
      : codec_(make_compressor("identity")), collect_(std::move(collect)) {}
  [[nodiscard]] const Compressor& answer_codec() const override { return *codec_; }
  const Message& answer(std::span<const T> aggregate, const StepContext&) override {
    collect_(aggregate);
    return nothing_;
  }

 private:
  std::unique_ptr<Compressor> codec_;
  std::function<void(std::span<const T>)> collect_;
  Message nothing_;
};

template <class T>
class ErrorFeedbackServer final : public ServerRole<T> {
 public:
  // error: the server's ẽ, owned by the algorithm (a named state buffer).
  ErrorFeedbackServer(const std::string& spec, const Layout& layout, std::vector<T>& error)
      : compressor_(make_compressor(spec)),
        layout_(layout),
        error_(error),
        p_(layout.total_size()),
        sent_(layout.total_size()) {}

  // γ_{t−1}/γ_t of the coming step (0 at t = 0).
  void set_error_scale(T scale) { scale_ = scale; }

  [[nodiscard]] const Compressor& answer_codec() const override { return *compressor_; }
  const Message& answer(std::span<const T> aggregate, const StepContext& context) override {
    for (std::size_t i = 0; i < p_.size(); ++i) p_[i] = aggregate[i] + scale_ * error_[i];
    compressor_->encode_and_decode(std::span<const T>(p_), layout_, context, answer_,
                                   std::span<T>(sent_));
    for (std::size_t i = 0; i < p_.size(); ++i) error_[i] = p_[i] - sent_[i];
    return answer_;
  }
  // encode_and_decode wrote the answer's decode into zeros.
  [[nodiscard]] std::span<const T> answer_decode() const override { return sent_; }

 private:
  std::unique_ptr<Compressor> compressor_;
  const Layout& layout_;
  std::vector<T>& error_;
  std::vector<T> p_;
  std::vector<T> sent_;
  T scale_ = 0;
  Message answer_;
};

}  // namespace gradcomp
