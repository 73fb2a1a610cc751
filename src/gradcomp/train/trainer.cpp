#include "gradcomp/train/trainer.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/comm/handshake.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/data/partition.hpp"
#include "gradcomp/exchange/handshake_fields.hpp"
#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/model/optimum.hpp"
#include "gradcomp/model/registry.hpp"
#include "gradcomp/train/batches.hpp"
#include "gradcomp/train/checkpoint.hpp"
#include "gradcomp/train/gradient_geometry.hpp"
#include "gradcomp/train/metrics.hpp"
#include "gradcomp/train/run_data.hpp"
#include "gradcomp/train/stop_signals.hpp"
#include "gradcomp/train/traffic_totals.hpp"

namespace gradcomp {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double nan_if_empty(const Dataset& d, double v) {
  return d.samples == 0 ? std::numeric_limits<double>::quiet_NaN() : v;
}

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

template <class T>
class Trainer {
 public:
  Trainer(const TrainConfig& config, Communicator& communicator, std::string resume)
      : signals_(),
        config_(config),
        resume_(std::move(resume)),
        communicator_(communicator),
        group_(WorkerGroup::split(config.workers, communicator)),
        data_(load_run_data(config)),
        shards_(partition(data_.train, config.workers, config.partition, config.seed)),
        objective_(make_objective<T>(config.model, data_.train, config.seed)),
        layout_(objective_->layout()),
        exchange_(communicator, group_),
        algorithm_(make_algorithm<T>({exchange_, layout_, config.seed, config.choice})),
        totals_(NetworkModel::parse(config.network), layout_.total_size(), config.workers),
        batches_(shards_, group_, config.batch, config.seed) {
    steps_per_epoch_ = batches_.steps_per_epoch(data_.train.samples, config.workers);
    total_steps_ = config.steps > 0 ? config.steps : config.epochs * steps_per_epoch_;
    require(total_steps_ > 0, "run.steps and run.epochs are both 0: nothing to train");
    eval_every_ = config.eval_every > 0 ? config.eval_every : steps_per_epoch_;
    const auto compressor = make_compressor(config.choice.compressor);
    ScheduleContext context{total_steps_, steps_per_epoch_, config.workers,
                            compressor->constants(layout_).delta.value_or(1.0)};
    schedule_ = make_schedule(config.schedule, context);
    rate_unit_ = rate_unit();
    handshake(communicator, describe(*compressor));
    if (objective_->convex()) solve_optimum();
    train_eval_ = evaluation_subset();
  }

  TrainResult run() {
    const bool writer = communicator_.rank() == 0;
    TrainResult result;
    std::unique_ptr<MetricsLog> log;
    if (writer) {
      result.directory = resume_.empty() ? make_run_directory(config_.out) : resume_;
      if (resume_.empty())
        write_file_atomically(result.directory + "/config.toml", config_.to_toml());
      log = std::make_unique<MetricsLog>(result.directory);
    }
    const std::size_t d = layout_.total_size();
    std::vector<T> x0(d);
    initialize(x0);
    algorithm_->start(x0);
    std::uint64_t first = 0;
    if (!resume_.empty()) {
      first = restore();
      if (writer) log->resume_until(first);
    }
    std::vector<std::vector<T>> gradients(group_.count, std::vector<T>(d));
    const auto wall = Clock::now();
    std::uint64_t t = first;
    bool stopped = false;
    nlohmann::ordered_json last =
        writer && !log->records().empty() ? log->records().back() : nlohmann::ordered_json{};
    while (t < total_steps_ && !stopped) {
      step(t, gradients);
      ++t;
      stopped = signals_.requested(communicator_);
      const bool due = t % eval_every_ == 0 || t == total_steps_ || stopped;
      if (due) {
        last = evaluate(t);
        if (writer) {
          log->append(last);
          report(last);
        }
      }
      if (stopped || t == total_steps_ ||
          (config_.checkpoint_every > 0 && t % config_.checkpoint_every == 0)) {
        checkpoint(t, result.directory);
      }
    }
    result.interrupted = stopped;
    result.steps_done = t;
    if (writer) {
      result.summary = summary(last, seconds_since(wall));
      result.summary["interrupted"] = stopped;
      log->write_summary(result.summary);
      if (config_.save_model) save_model(result.directory);
    }
    return result;
  }

 private:
  // f* and x* on the training set (model/optimum.hpp), for the suboptimality f(x) − f*, and
  // ∇f_i(x*) for EF-GDstar (ALGORITHMS.md §3.17).
  void solve_optimum() {
    auto exact = make_objective<double>(config_.model, data_.train, config_.seed);
    optimum_ = find_optimum(*exact, data_.train);
    if (!algorithm_->needs_optimum_gradients()) return;
    std::vector<double> g(layout_.total_size());
    std::vector<T> as_t(g.size());
    for (std::size_t j = 0; j < group_.count; ++j) {
      exact->loss_and_gradient(optimum_.x, data_.train, shards_[group_.first + j], g);
      std::copy(g.begin(), g.end(), as_t.begin());
      algorithm_->set_optimum_gradient(j, as_t);
    }
  }

  // run.train_eval_samples = m > 0: the training loss and accuracy are evaluated on m samples
  // spread evenly over the training set (every (N/m)-th), fixed for the run. Neural models only:
  // the convex objectives' f − f* is about the whole training objective.
  std::optional<Dataset> evaluation_subset() const {
    const std::size_t m = config_.train_eval_samples;
    if (m == 0 || m >= data_.train.samples) return std::nullopt;
    require(
        !objective_->convex(),
        "run.train_eval_samples = {} with the convex model '{}': f - f* is defined on the whole "
        "training set; remove the key (0 = every sample)",
        m, config_.model);
    std::vector<std::size_t> picked(m);
    for (std::size_t i = 0; i < m; ++i) picked[i] = i * data_.train.samples / m;
    return subset(data_.train, picked);
  }

  // The full objective's squared gradient norm at y (convex objectives).
  double full_gradient_norm2(std::span<const T> y) {
    std::vector<std::size_t> all(data_.train.samples);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<T> g(layout_.total_size());
    objective_->loss_and_gradient(y, data_.train, all, g);
    double norm = 0;
    for (const T v : g) norm += static_cast<double>(v) * static_cast<double>(v);
    return norm;
  }

  // S002 Fig. 1b: worker 0's stochastic gradient on the first `batch` samples of its shard, at y;
  // returns {φ(g), ‖g‖₁²/(d‖g‖²)}. The model's running statistics are put back afterwards: the
  // measurement must not change the run.
  std::pair<double, double> gradient_geometry(std::span<const T> y) {
    const std::vector<std::size_t>& shard = shards_.front();
    std::size_t count = shard.size();
    if (config_.batch != "full") count = std::min<std::size_t>(count, std::stoull(config_.batch));
    const std::vector<std::size_t> samples(shard.begin(),
                                           shard.begin() + static_cast<std::ptrdiff_t>(count));
    std::vector<std::vector<T>> saved;
    for (const auto& buffer : objective_->statistics()) {
      saved.emplace_back(buffer.data.begin(), buffer.data.end());
    }
    std::vector<T> g(layout_.total_size());
    objective_->begin_step();
    objective_->loss_and_gradient(y, data_.train, samples, g);
    objective_->end_step();
    auto buffers = objective_->statistics();
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      std::copy(saved[i].begin(), saved[i].end(), buffers[i].data.begin());
    }
    const std::span<const T> gradient(g);
    return {blockwise_sign_phi(gradient, layout_), sign_contraction(gradient)};
  }

  // BatchNorm statistics: the mean over this rank's workers (end_step), then over ranks.
  void average_statistics() {
    if (communicator_.size() == 1) return;
    const T ranks = static_cast<T>(communicator_.size());
    for (const auto& buffer : objective_->statistics()) {
      communicator_.allreduce_sum(buffer.data);
      for (T& v : buffer.data) v /= ranks;
    }
  }

  // What a checkpoint holds: the algorithm's state and the model's running statistics.
  std::vector<StateBuffer<T>> checkpoint_buffers() {
    auto buffers = algorithm_->state();
    for (auto& s : objective_->statistics()) buffers.push_back(s);
    return buffers;
  }

  // Every rank writes its state; rank 0 then writes the trainer's totals (the file a resume
  // checks every rank's step against).
  void checkpoint(std::uint64_t step, const std::string& directory) {
    std::vector<std::uint8_t> name(directory.begin(), directory.end());
    communicator_.broadcast(name, 0);
    const std::string run(name.begin(), name.end());
    const std::vector<double> scalars = algorithm_->totals();
    save_checkpoint<T>(checkpoint_path(run, communicator_.rank()), step, checkpoint_buffers(),
                       scalars);
    communicator_.barrier();
    if (communicator_.rank() == 0) {
      write_file_atomically(run + "/checkpoint/trainer.json",
                            totals_.checkpoint(step).dump(2) + "\n");
    }
  }

  std::uint64_t restore() {
    const std::string path = resume_ + "/checkpoint/trainer.json";
    require(std::filesystem::exists(path),
            "'{}' has no checkpoint (checkpoint/trainer.json); it cannot be resumed", resume_);
    std::ifstream in(path);
    const auto saved = nlohmann::ordered_json::parse(in);
    const auto step = saved["step"].get<std::uint64_t>();
    std::vector<double> scalars;
    const std::uint64_t rank_step = load_checkpoint<T>(
        checkpoint_path(resume_, communicator_.rank()), checkpoint_buffers(), scalars);
    require(rank_step == step, "checkpoint of rank {} is at step {}, the run's at step {}",
            communicator_.rank(), rank_step, step);
    algorithm_->restore_totals(scalars);
    algorithm_->restored();
    totals_.restore(saved);
    return step;
  }

  std::vector<HandshakeField> describe(const Compressor& compressor) const {
    auto fields =
        exchange_fields(group_, layout_, compressor, Pattern::kAllgather, config_.precision);
    fields.push_back({"algorithm", config_.choice.algorithm});
    fields.push_back({"schedule", config_.schedule});
    fields.push_back(
        {"data", fmt::format("{} ({} samples)", data_.train.name, data_.train.samples)});
    fields.push_back({"seed", std::to_string(config_.seed)});
    return fields;
  }

  void step(std::uint64_t t, std::vector<std::vector<T>>& gradients) {
    const auto start = Clock::now();
    std::vector<std::span<const T>> views;
    objective_->begin_step();
    for (std::size_t j = 0; j < group_.count; ++j) {
      const std::size_t worker = group_.first + j;
      objective_->loss_and_gradient(algorithm_->query_point(j), data_.train, batches_.batch(j, t),
                                    gradients[j]);
      check_finite(std::span<const T>(gradients[j]), t, worker, "gradient");
      views.emplace_back(gradients[j]);
    }
    objective_->end_step();
    average_statistics();
    const double rate = rate_at(t);
    try {
      algorithm_->step(views, {t, rate, t == 0 ? 0.0 : rate_at(t - 1)});
    } catch (const NonFiniteInput& e) {
      throw Diverged(fmt::format(
          "step {}: {}; the run diverged — lower the learning rate or the compression ratio", t,
          e.what()));
    }
    check_finite(algorithm_->model(), t, group_.first, "model");
    totals_.add_step(algorithm_->traffic(), seconds_since(start), group_.count);
  }

  // algorithm.lr_unit = "1/L": the schedule's rates are multiples of 1/L (S004's γ = 1/L, §5.1).
  [[nodiscard]] double rate_unit() const {
    if (config_.lr_unit == "1") return 1;
    const double smoothness = objective_->smoothness();
    require(std::isfinite(smoothness) && smoothness > 0,
            "algorithm.lr_unit = \"1/L\" needs a model with a known smoothness L (logistic, "
            "least-squares); '{}' has none",
            config_.model);
    return 1 / smoothness;
  }

  [[nodiscard]] double rate_at(std::uint64_t t) const { return rate_unit_ * schedule_->rate(t); }

  // model.init = "optimum:offset=c": x0 = x* + c·1, S004's start for its convex runs (§5.1).
  void initialize(std::vector<T>& x0) {
    objective_->initialize(x0, config_.seed);
    if (config_.init == "default") return;
    const std::string text = config_.init.substr(config_.init.find('=') + 1);
    double offset = 0;
    try {
      std::size_t used = 0;
      offset = std::stod(text, &used);
      require(used == text.size(), "");
    } catch (const std::exception&) {
      throw InvalidInput(
          fmt::format("model.init = '{}': the offset must be a number", config_.init));
    }
    require(objective_->convex(),
            "model.init = '{}' needs a convex model with an optimum; '{}' is not", config_.init,
            config_.model);
    for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = static_cast<T>(optimum_.x[i] + offset);
  }

  void check_finite(std::span<const T> v, std::uint64_t t, std::size_t worker, const char* what) {
    const std::size_t bad = first_non_finite(v);
    if (bad == v.size()) return;
    throw Diverged(fmt::format(
        "step {}, worker {}: the {} has {} at index {} (layer '{}'); the run diverged — lower the "
        "learning rate or the compression ratio",
        t, worker, what, std::isnan(static_cast<double>(v[bad])) ? "NaN" : "an infinity", bad,
        layout_.block_of(bad).name));
  }

  nlohmann::ordered_json evaluate(std::uint64_t steps) {
    std::vector<T> y(layout_.total_size());
    algorithm_->evaluated_model(y);
    const Diagnostics diag = algorithm_->diagnostics();
    const Evaluation train = objective_->evaluate(y, train_eval_ ? *train_eval_ : data_.train);
    if (!std::isfinite(train.loss)) {
      throw Diverged(fmt::format(
          "step {}: the training loss is {}; the run diverged — lower the learning rate or the "
          "compression ratio",
          steps, train.loss));
    }
    Evaluation test;
    if (data_.test.samples > 0) test = objective_->evaluate(y, data_.test);
    nlohmann::ordered_json r;
    r["step"] = steps;
    r["epoch"] = static_cast<double>(steps) / static_cast<double>(steps_per_epoch_);
    r["lr"] = rate_at(steps - 1);
    r["train_loss"] = number(train.loss);
    r["train_accuracy"] = number(train.accuracy);
    r["test_loss"] = number(nan_if_empty(data_.test, test.loss));
    r["test_accuracy"] = number(nan_if_empty(data_.test, test.accuracy));
    if (objective_->convex()) {
      r["suboptimality"] = number(train.loss - optimum_.value);
      r["grad_norm2"] = number(full_gradient_norm2(y));
    }
    r["error_norm2"] = number(diag.mean_error_norm2);
    r["error_of_mean_norm2"] = number(diag.error_of_mean_norm2);
    r["def_distance"] = number(diag.def_distance);
    r["kappa_star"] = number(diag.kappa_star);
    r["server_error_norm2"] = number(diag.server_error_norm2);
    r["density"] = number(diag.density);
    r["total_error"] = number(diag.total_error);
    if (config_.gradient_geometry) {
      const auto [phi, delta] = gradient_geometry(y);
      r["grad_phi"] = number(phi);
      r["grad_sign_delta"] = number(delta);
    }
    totals_.write_record(r);
    return r;
  }

  void report(const nlohmann::ordered_json& r) const {
    if (!config_.progress) return;
    const std::string accuracy =
        r["test_accuracy"].is_null()
            ? ""
            : fmt::format(" test acc {:.2f}%", 100 * r["test_accuracy"].get<double>());
    const std::string line = fmt::format(
        "step {:>6}/{} epoch {:5.2f} train loss {:.4f}{} bits/worker {:.3g} simulated {:.1f}s",
        r["step"].get<std::uint64_t>(), total_steps_, r["epoch"].get<double>(),
        r["train_loss"].is_null() ? NAN : r["train_loss"].get<double>(), accuracy,
        r["bits_up"].get<double>(), r["simulated_seconds"].get<double>());
    if (isatty(fileno(stderr)) != 0) {
      std::fprintf(stderr, "\r%s", line.c_str());
      if (r["step"].get<std::uint64_t>() == total_steps_) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }

  nlohmann::ordered_json summary(const nlohmann::ordered_json& last, double wall) const {
    nlohmann::ordered_json s;
    s["algorithm"] = algorithm_->spec();
    s["compressor"] = config_.choice.compressor;
    s["model"] = objective_->name();
    s["parameters"] = layout_.total_size();
    s["workers"] = config_.workers;
    s["backend"] = communicator_.name();
    s["network"] = totals_.network().name;
    s["steps"] = total_steps_;
    s["steps_per_epoch"] = steps_per_epoch_;
    if (objective_->convex()) {
      s["optimum"] = {{"value", optimum_.value},
                      {"gradient_norm", optimum_.gradient_norm},
                      {"smoothness", objective_->smoothness()},
                      {"strong_convexity", objective_->strong_convexity()}};
    }
    s["final"] = last;
    totals_.write_summary(s);
    s["wall_seconds"] = wall;
    return s;
  }

  void save_model(const std::string& directory) {
    std::vector<T> y(layout_.total_size());
    algorithm_->evaluated_model(y);
    write_npy(directory + "/model.npy", y, {y.size()});
  }

  StopSignals signals_;  // first: installed before the data is loaded
  const TrainConfig& config_;
  std::string resume_;
  Communicator& communicator_;
  WorkerGroup group_;
  RunData data_;
  Shards shards_;
  std::optional<Dataset>
      train_eval_;  // run.train_eval_samples: the evaluated part of the train set
  std::unique_ptr<Objective<T>> objective_;
  const Layout& layout_;
  Exchange exchange_;
  std::unique_ptr<Algorithm<T>> algorithm_;
  TrafficTotals totals_;
  Batches batches_;
  std::unique_ptr<Schedule> schedule_;
  double rate_unit_ = 1;
  Optimum optimum_;
  std::uint64_t steps_per_epoch_ = 1;
  std::uint64_t total_steps_ = 0;
  std::uint64_t eval_every_ = 1;
};

}  // namespace

TrainResult train(const TrainConfig& config, Communicator& communicator,
                  const std::string& resume) {
  if (config.precision == "double") return Trainer<double>(config, communicator, resume).run();
  return Trainer<float>(config, communicator, resume).run();
}

}  // namespace gradcomp
