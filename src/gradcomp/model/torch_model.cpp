#include "gradcomp/model/torch_model.hpp"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "gradcomp/core/error.hpp"
#include "gradcomp/model/blas_check.hpp"

namespace gradcomp {

namespace {

torch::nn::Sequential build_mlp(std::size_t inputs, const std::vector<double>& hidden,
                                std::size_t classes) {
  torch::nn::Sequential net;
  auto width = static_cast<std::int64_t>(inputs);
  for (const double h : hidden) {
    net->push_back(torch::nn::Linear(width, static_cast<std::int64_t>(h)));
    net->push_back(torch::nn::ReLU());
    width = static_cast<std::int64_t>(h);
  }
  net->push_back(torch::nn::Linear(width, static_cast<std::int64_t>(classes)));
  return net;
}

// A residual block of two 3×3 convolutions with BatchNorm (He et al. 2016), with a 1×1
// projection when the shape changes.
struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
    using namespace torch::nn;
    conv1 = register_module(
        "conv1", Conv2d(Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", BatchNorm2d(out));
    conv2 = register_module("conv2", Conv2d(Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = register_module("bn2", BatchNorm2d(out));
    if (stride != 1 || in != out) {
      shortcut = register_module(
          "shortcut", Sequential(Conv2d(Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                 BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    return torch::relu(y + (shortcut.is_empty() ? x : shortcut->forward(x)));
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(BasicBlock);

// ResNet for 1×28×28 inputs: a 3×3 stem of `width` channels, three stages of `blocks` residual
// blocks (width, 2·width, 4·width channels; the last two stride 2), global average pooling and a
// linear classifier. blocks = 1: ResNet-8; blocks = 3: ResNet-20.
torch::nn::Sequential build_resnet(std::int64_t width, std::int64_t blocks, std::size_t classes) {
  using namespace torch::nn;
  Sequential net(Conv2d(Conv2dOptions(1, width, 3).padding(1).bias(false)), BatchNorm2d(width),
                 ReLU());
  std::int64_t channels = width;
  for (std::int64_t stage = 0; stage < 3; ++stage) {
    const std::int64_t out = width << stage;
    for (std::int64_t b = 0; b < blocks; ++b) {
      net->push_back(BasicBlock(channels, out, stage > 0 && b == 0 ? 2 : 1));
      channels = out;
    }
  }
  net->push_back(AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions(1)));
  net->push_back(Flatten());
  net->push_back(Linear(channels, static_cast<std::int64_t>(classes)));
  return net;
}

torch::nn::Sequential build_lenet(std::size_t classes) {
  using namespace torch::nn;
  return Sequential(Conv2d(Conv2dOptions(1, 6, 5).padding(2)), ReLU(), MaxPool2d(2),
                    Conv2d(Conv2dOptions(6, 16, 5)), ReLU(), MaxPool2d(2), Flatten(),
                    Linear(400, 120), ReLU(), Linear(120, 84), ReLU(),
                    Linear(84, static_cast<std::int64_t>(classes)));
}

// Images per evaluation chunk, from the largest buffer a network's forward pass needs per image
// (a convolution's unfolded input, k·k·C_in floats at each output position, or the widest layer):
// a chunk's buffers stay within kChunkBufferBytes. glibc hands out a larger block by mapping fresh
// pages (its mmap threshold stops at 32 MiB on 64-bit) and unmaps it when freed, so every chunk
// faulted all of them in again: page faults took 44% of a LeNet evaluation in chunks of 2,000 on
// the VM of docs/benchmarks.md ("Evaluation chunks"). Smaller blocks come back from the heap the
// chunk before freed them. The chunk depends on the network alone, so evaluations (summed chunk
// by chunk) give the same bits on every run.
constexpr std::size_t kChunkBufferBytes = std::size_t{16} << 20;
constexpr std::size_t kLargestChunk = 2000;

std::size_t evaluation_chunk(std::size_t largest_buffer_floats_per_image) {
  const std::size_t bytes =
      sizeof(float) * std::max<std::size_t>(largest_buffer_floats_per_image, 1);
  return std::clamp<std::size_t>(kChunkBufferBytes / bytes, 1, kLargestChunk);
}

class TorchObjective final : public Objective<float> {
 public:
  TorchObjective(std::string spec, torch::nn::Sequential net, std::vector<std::int64_t> input_shape,
                 std::size_t evaluation_chunk)
      : spec_(std::move(spec)),
        net_(std::move(net)),
        input_shape_(std::move(input_shape)),
        evaluation_chunk_(evaluation_chunk) {
    std::vector<Block> blocks;
    std::size_t offset = 0;
    for (const auto& item : net_->named_parameters()) {
      const auto sizes = item.value().sizes();
      std::vector<std::size_t> shape(sizes.begin(), sizes.end());
      const auto count = static_cast<std::size_t>(item.value().numel());
      blocks.push_back({item.key(), offset, count, shape});
      offset += count;
    }
    layout_ = Layout(std::move(blocks));
    parameters_.resize(offset);
    gradients_.resize(offset);
    bind();
  }

  [[nodiscard]] const std::string& name() const override { return spec_; }
  [[nodiscard]] const Layout& layout() const override { return layout_; }

  // The initial weights libtorch drew when the network was built (under the run's seed).
  void initialize(std::span<float> x, std::uint64_t) override {
    std::copy(initial_.begin(), initial_.end(), x.begin());
    std::copy(initial_statistics_.begin(), initial_statistics_.end(), statistics_.begin());
  }

  void begin_step() override {
    step_start_.assign(statistics_.begin(), statistics_.end());
    std::fill(statistics_sum_.begin(), statistics_sum_.end(), 0.0);
    forwards_ = 0;
  }
  void end_step() override {
    if (forwards_ == 0) return;
    for (std::size_t i = 0; i < statistics_.size(); ++i) {
      statistics_[i] = static_cast<float>(statistics_sum_[i] / static_cast<double>(forwards_));
    }
  }
  std::vector<StateBuffer<float>> statistics() override {
    std::vector<StateBuffer<float>> all;
    for (const auto& [name, range] : statistic_ranges_) {
      all.push_back(
          {"statistics/" + name, std::span<float>(statistics_).subspan(range.first, range.second)});
    }
    return all;
  }

  double loss_and_gradient(std::span<const float> x, const Dataset& data,
                           std::span<const std::size_t> samples,
                           std::span<float> gradient) override {
    load(x);
    net_->train();
    // Every worker's forward pass starts from the step's common statistics (§3.6 vi).
    // (std::copy: the net's buffers are views into statistics_, which must never reallocate.)
    if (forwards_ > 0 && step_start_.size() == statistics_.size()) {
      std::copy(step_start_.begin(), step_start_.end(), statistics_.begin());
    }
    std::fill(gradients_.begin(), gradients_.end(), 0.0F);
    const auto [inputs, targets] = batch(data, samples);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(net_->forward(inputs), targets);
    loss.backward();
    std::copy(gradients_.begin(), gradients_.end(), gradient.begin());
    for (std::size_t i = 0; i < statistics_.size(); ++i) statistics_sum_[i] += statistics_[i];
    ++forwards_;
    return loss.item<double>();
  }

  Evaluation evaluate(std::span<const float> x, const Dataset& data) override {
    load(x);
    // Inference mode: no autograd bookkeeping at all (no version counters, no views tracked),
    // cheaper than no_grad for 70,000 images in chunks (evaluation_chunk).
    const c10::InferenceMode inference;
    net_->eval();
    double loss = 0;
    std::size_t correct = 0;
    std::vector<std::size_t> indices;
    for (std::size_t begin = 0; begin < data.samples; begin += evaluation_chunk_) {
      indices.clear();
      for (std::size_t i = begin; i < std::min(data.samples, begin + evaluation_chunk_); ++i)
        indices.push_back(i);
      const auto [inputs, targets] = batch(data, indices);
      const torch::Tensor logits = net_->forward(inputs);
      loss += torch::nn::functional::cross_entropy(
                  logits, targets,
                  torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                  .item<double>();
      correct += static_cast<std::size_t>(logits.argmax(1).eq(targets).sum().item<std::int64_t>());
    }
    const auto n = static_cast<double>(data.samples);
    return {loss / n, static_cast<double>(correct) / n};
  }

 private:
  // Points every parameter and its gradient at the flat buffers (autograd then accumulates into
  // them in place), after keeping the initial values.
  void bind() {
    torch::NoGradGuard no_grad;
    for (const Block& block : layout_.blocks()) {
      torch::Tensor p = net_->named_parameters()[block.name];
      std::memcpy(parameters_.data() + block.offset, p.contiguous().data_ptr<float>(),
                  block.size * sizeof(float));
      const std::vector<std::int64_t> sizes(p.sizes().begin(), p.sizes().end());
      p.set_data(torch::from_blob(parameters_.data() + block.offset, sizes, torch::kFloat32));
      p.mutable_grad() = torch::from_blob(gradients_.data() + block.offset, sizes, torch::kFloat32);
    }
    initial_ = parameters_;
    bind_statistics();
  }

  // BatchNorm's float buffers (running means and variances) become views into one flat vector.
  void bind_statistics() {
    std::size_t total = 0;
    for (const auto& item : net_->named_buffers()) {
      if (item.value().scalar_type() == torch::kFloat32)
        total += static_cast<std::size_t>(item.value().numel());
    }
    statistics_.resize(total);
    statistics_sum_.assign(total, 0.0);
    std::size_t offset = 0;
    torch::NoGradGuard no_grad;
    for (auto& item : net_->named_buffers()) {
      torch::Tensor b = item.value();
      if (b.scalar_type() != torch::kFloat32) continue;
      const auto count = static_cast<std::size_t>(b.numel());
      std::memcpy(statistics_.data() + offset, b.contiguous().data_ptr<float>(),
                  count * sizeof(float));
      const std::vector<std::int64_t> sizes(b.sizes().begin(), b.sizes().end());
      b.set_data(torch::from_blob(statistics_.data() + offset, sizes, torch::kFloat32));
      statistic_ranges_.emplace_back(item.key(), std::make_pair(offset, count));
      offset += count;
    }
    initial_statistics_ = statistics_;
  }

  void load(std::span<const float> x) { std::copy(x.begin(), x.end(), parameters_.begin()); }

  std::pair<torch::Tensor, torch::Tensor> batch(const Dataset& data,
                                                std::span<const std::size_t> samples) const {
    std::vector<std::int64_t> shape{static_cast<std::int64_t>(samples.size())};
    shape.insert(shape.end(), input_shape_.begin(), input_shape_.end());
    torch::Tensor inputs = torch::empty(shape, torch::kFloat32);
    torch::Tensor targets =
        torch::empty({static_cast<std::int64_t>(samples.size())}, torch::kInt64);
    float* in = inputs.data_ptr<float>();
    auto* out = targets.data_ptr<std::int64_t>();
    for (std::size_t k = 0; k < samples.size(); ++k) {
      const auto row = data.row(samples[k]);
      std::copy(row.begin(), row.end(), in + k * data.features);
      out[k] = static_cast<std::int64_t>(data.labels[samples[k]]);
    }
    return {inputs, targets};
  }

  std::string spec_;
  torch::nn::Sequential net_;
  std::vector<std::int64_t> input_shape_;
  std::size_t evaluation_chunk_;
  Layout layout_;
  std::vector<float> parameters_;
  std::vector<float> gradients_;
  std::vector<float> initial_;
  std::vector<float> statistics_;  // BatchNorm running statistics (views bound into the net)
  std::vector<float> initial_statistics_;
  std::vector<float> step_start_;
  std::vector<double> statistics_sum_;
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> statistic_ranges_;
  std::size_t forwards_ = 0;
};

}  // namespace

std::unique_ptr<Objective<float>> make_torch_objective(const std::string& name,
                                                       const Params& params, const Dataset& train,
                                                       std::uint64_t seed) {
  require(!train.sparse, "{}: neural networks need dense features; '{}' is sparse", name,
          train.name);
  require(train.classes >= 2, "{}: neural networks here are classifiers; '{}' has no classes", name,
          train.name);
  torch::manual_seed(seed);
  torch::set_num_threads(1);  // one thread: deterministic, and the workers already fill the cores
  warn_if_reference_blas();
  if (name == "mlp") {
    const std::vector<double> hidden = params.list("hidden");
    std::size_t widest = std::max(train.features, train.classes);
    for (const double h : hidden) widest = std::max(widest, static_cast<std::size_t>(h));
    return std::make_unique<TorchObjective>(
        params.canonical(), build_mlp(train.features, hidden, train.classes),
        std::vector<std::int64_t>{static_cast<std::int64_t>(train.features)},
        evaluation_chunk(widest));
  }
  constexpr std::size_t kPixels = 28 * 28;
  require(train.shape == std::vector<std::size_t>{1, 28, 28},
          "{} needs 1x28x28 images (IDX data such as Fashion-MNIST); '{}' has samples of {} "
          "features",
          name, train.name, train.features);
  if (name == "resnet") {
    // The first stage's 3×3 convolutions over `width` channels at full resolution; the later
    // stages double the channels on a quarter of the positions.
    const std::int64_t width = params.integer("width");
    return std::make_unique<TorchObjective>(
        params.canonical(), build_resnet(width, params.integer("blocks"), train.classes),
        std::vector<std::int64_t>{1, 28, 28},
        evaluation_chunk(9 * static_cast<std::size_t>(std::max<std::int64_t>(width, 1)) * kPixels));
  }
  // The first 5×5 convolution, unfolded at each of the 28 × 28 positions.
  return std::make_unique<TorchObjective>(params.canonical(), build_lenet(train.classes),
                                          std::vector<std::int64_t>{1, 28, 28},
                                          evaluation_chunk(25 * kPixels));
}

}  // namespace gradcomp
