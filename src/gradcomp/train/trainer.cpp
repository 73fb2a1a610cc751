#include "gradcomp/train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <set>

#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/schedule.hpp"
#include "gradcomp/algo/stepper.hpp"
#include "gradcomp/comm/handshake.hpp"
#include "gradcomp/comm/placement.hpp"
#include "gradcomp/comm/start_agreement.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/data/partition.hpp"
#include "gradcomp/exchange/handshake_fields.hpp"
#include "gradcomp/exchange/network_model.hpp"
#include "gradcomp/exchange/traffic_totals.hpp"
#include "gradcomp/model/optimum.hpp"
#include "gradcomp/model/registry.hpp"
#include "gradcomp/train/batches.hpp"
#include "gradcomp/train/collapse.hpp"
#include "gradcomp/train/evaluator.hpp"
#include "gradcomp/train/metrics.hpp"
#include "gradcomp/train/progress.hpp"
#include "gradcomp/train/run_checkpoint.hpp"
#include "gradcomp/train/run_data.hpp"
#include "gradcomp/train/stop_signals.hpp"
#include "gradcomp/train/worker_gradients.hpp"

namespace gradcomp {

namespace {

using Clock = std::chrono::steady_clock;

// workers.threads: 0 = this process's share of the cores; never more than the workers it hosts.
std::size_t worker_threads(std::size_t configured, const WorkerGroup& group) {
  const std::size_t wanted = configured > 0 ? configured : WorkerPool::cores_per_process();
  return std::clamp<std::size_t>(wanted, 1, std::max<std::size_t>(group.count, 1));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Wires the boxes of a step for one run and drives the loop: WorkerGradients → Stepper
// (algorithm, schedule, finiteness) → TrafficTotals, then Evaluator every run.eval_every steps,
// RunCheckpoint at run.checkpoint_every, and the outputs on rank 0.
template <class T>
class Trainer {
 public:
  Trainer(const TrainConfig& config, Communicator& communicator, std::string resume)
      : signals_(communicator.rank() == 0),
        created_(Clock::now()),
        config_(config),
        resume_(std::move(resume)),
        communicator_(communicator),
        group_(WorkerGroup::split(config.workers, communicator)),
        data_(load_run_data(config)),
        loaded_(Clock::now()),
        shards_(partition(data_.train, config.workers, config.partition, config.seed)),
        objective_(make_objective<T>(config.model, data_.train, config.seed)),
        layout_(objective_->layout()),
        exchange_(communicator, group_, worker_threads(config.threads, group_)),
        algorithm_(make_algorithm<T>({exchange_, layout_, config.seed, config.choice})),
        totals_(NetworkModel::parse(config.network), layout_.total_size(), config.workers),
        batches_(shards_, group_, config.batch, config.seed),
        steps_per_epoch_(batches_.steps_per_epoch(data_.train.samples, config.workers)),
        total_steps_(count_steps()),
        eval_every_(config.eval_every > 0 ? config.eval_every : steps_per_epoch_),
        compressor_(make_compressor(config.choice.compressor)),
        stepper_(*algorithm_, layout_, make_run_schedule(), rate_unit(), group_.first),
        gradients_(*objective_, data_.train, batches_, group_, communicator, exchange_.pool()),
        evaluator_(config, *objective_, data_, shards_, optimum_, steps_per_epoch_),
        checkpoint_(*algorithm_, *objective_, totals_, communicator) {
    check_initialization();
    if (communicator.rank() == 0 && !data_.note.empty())
      fmt::print(stderr, "gradcomp: note: {}\n", data_.note);
  }

  // Collective, after every rank built its trainer (start_together): the ranks compare their
  // settings and data, then find the optimum of a convex objective.
  void start() {
    handshake(communicator_, describe());
    const std::string placement = describe_placement(rank_hosts(communicator_));
    if (communicator_.rank() == 0 && !placement.empty())
      fmt::print(stderr, "gradcomp: {}\n", placement);
    if (objective_->convex()) solve_optimum();
  }

  TrainResult run() {
    const bool writer = communicator_.rank() == 0;
    TrainResult result;
    std::unique_ptr<MetricsLog> log;
    if (writer) {
      result.directory = resume_.empty() ? make_run_directory(config_.out) : resume_;
      if (resume_.empty()) {
        const std::string text = config_.to_toml();
        write_file_atomically(result.directory + "/config.toml", text);
        checkpoint_.record_config(text);
      }
      log = std::make_unique<MetricsLog>(result.directory);
    }
    std::vector<T> x0(layout_.total_size());
    initialize(x0);
    algorithm_->start(x0);
    if (!resume_.empty()) {
      const std::uint64_t step = checkpoint_.restore(resume_);
      require(step < total_steps_,
              "the checkpoint in '{}' is at step {} and the run is {} steps long: nothing is left "
              "to train; give a longer run (--set run.steps=N with N > {}, or run.epochs)",
              resume_, step, total_steps_, step);
      stepper_.resume_at(step);
      if (writer) log->resume_until(stepper_.next_step());
    }
    const auto wall = Clock::now();
    Progress progress(total_steps_, stepper_.next_step(), stderr_is_terminal(), stderr);
    const bool show_progress = writer && config_.progress;
    bool stopped = false;
    nlohmann::ordered_json last =
        writer && !log->records().empty() ? log->records().back() : nlohmann::ordered_json{};
    // The starting point is the first record of a fresh run: every curve starts at step 0.
    if (stepper_.next_step() == 0) {
      last = evaluator_.evaluate(stepper_);
      totals_.write_record(last);
      if (writer) log->append(last);
    }
    first_step_ = Clock::now();
    while (stepper_.next_step() < total_steps_ && !stopped) {
      const auto start = Clock::now();
      gradients_.step(stepper_);
      totals_.add_step(algorithm_->traffic(), seconds_since(start), group_.count,
                       exchange_.pool().threads());
      const std::uint64_t t = stepper_.next_step();
      stopped = signals_.requested(communicator_);
      if (show_progress) progress.step_done(t);
      if (t % eval_every_ == 0 || t == total_steps_ || stopped) {
        last = evaluator_.evaluate(stepper_);
        totals_.write_record(last);
        if (writer) {
          log->append(last);
          if (show_progress) progress.evaluated(last);
        }
      }
      if (stopped || t == total_steps_ ||
          (config_.checkpoint_every > 0 && t % config_.checkpoint_every == 0)) {
        checkpoint_.save(t, result.directory);
      }
    }
    result.interrupted = stopped;
    result.steps_done = stepper_.next_step();
    // Collective (DEF's evaluated model all-reduces the errors): every rank computes it, rank 0
    // writes it.
    std::vector<T> model;
    if (config_.save_model) {
      model.resize(layout_.total_size());
      algorithm_->evaluated_model(model);
    }
    if (writer) {
      result.summary = summary(last, seconds_since(wall));
      note_collapse(log->records(), result.summary);
      result.summary["interrupted"] = stopped;
      log->write_summary(result.summary);
      if (config_.save_model) write_npy(result.directory + "/model.npy", model, {model.size()});
    }
    return result;
  }

 private:
  [[nodiscard]] std::uint64_t count_steps() const {
    const std::uint64_t steps =
        config_.steps > 0 ? config_.steps : config_.epochs * steps_per_epoch_;
    require(steps > 0, "run.steps and run.epochs are both 0: nothing to train");
    return steps;
  }

  [[nodiscard]] std::unique_ptr<Schedule> make_run_schedule() const {
    const ScheduleContext context{total_steps_, steps_per_epoch_, config_.workers,
                                  compressor_->constants(layout_).delta.value_or(1.0)};
    return make_schedule(config_.schedule, context);
  }

  // algorithm.lr_unit = "1/L": the schedule's rates are multiples of 1/L ([HardThreshold]'s γ =
  // 1/L, docs/reproduction.md).
  [[nodiscard]] double rate_unit() const {
    if (config_.lr_unit == "1") return 1;
    const double smoothness = objective_->smoothness();
    require(std::isfinite(smoothness) && smoothness > 0,
            "algorithm.lr_unit = \"1/L\" needs a model with a known smoothness L (logistic, "
            "least-squares); '{}' has none",
            config_.model);
    return 1 / smoothness;
  }

  // f* and x* on the training set (model/optimum.hpp), for the suboptimality f(x) − f*, and
  // ∇f_i(x*) for EF-GDstar (docs/algorithms.md §3.17).
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

  // model.init = "optimum:offset=c": x0 = x* + c·1, [HardThreshold]'s start for its convex runs.
  // Checked when the trainer is built, before the run directory exists.
  void check_initialization() const {
    require(config_.init == "default" || objective_->convex(),
            "model.init = '{}' needs a convex model with an optimum; '{}' is not", config_.init,
            config_.model);
  }

  void initialize(std::vector<T>& x0) {
    objective_->initialize(x0, config_.seed);
    if (config_.init == "default") return;
    const double offset = init_offset(config_.init);
    for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = static_cast<T>(optimum_.x[i] + offset);
  }

  std::vector<HandshakeField> describe() const {
    auto fields =
        exchange_fields(group_, layout_, *compressor_, Pattern::kAllgather, config_.precision);
    fields.push_back({"algorithm", config_.choice.algorithm});
    fields.push_back({"schedule", config_.schedule});
    fields.push_back(
        {"data", fmt::format("{} ({} samples)", data_.train.name, data_.train.samples)});
    fields.push_back({"seed", std::to_string(config_.seed)});
    // Every other setting too (a rank with another eval_every or steps would wait in a collective
    // the others never reach), but not where rank 0 alone writes, nor the data files' paths:
    // hosts may mount the data elsewhere, and the contents' hashes below compare what matters.
    // Nor the threads, which each host chooses for its cores and which do not change results.
    static const std::set<std::string> rank_local = {"run.out",           "data.train",
                                                     "data.train_labels", "data.test",
                                                     "data.test_labels",  "workers.threads"};
    for (auto& [key, value] : config_.settings()) {
      if (!rank_local.contains(key)) fields.push_back({"setting " + key, std::move(value)});
    }
    if (communicator_.size() > 1) {  // one pass over the data: only where there is a peer
      fields.push_back(
          {"training data's contents", fmt::format("hash {:016x}", data_.train.content_hash())});
      fields.push_back(
          {"test data's contents", fmt::format("hash {:016x}", data_.test.content_hash())});
    }
    return fields;
  }

  nlohmann::ordered_json summary(const nlohmann::ordered_json& last, double wall) const {
    nlohmann::ordered_json s;
    s["algorithm"] = algorithm_->spec();
    // What ran: an algorithm with its own compressor, or with a quantizer alone, ignores the
    // [compressor] name and parameters.
    const CompressorsInUse in_use = compressors_in_use(config_.choice);
    s["compressor"] = in_use.compressor;
    if (!in_use.quantizer.empty()) s["quantizer"] = in_use.quantizer;
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
    s["load_seconds"] = std::chrono::duration<double>(loaded_ - created_).count();
    s["start_seconds"] = std::chrono::duration<double>(first_step_ - loaded_).count();
    return s;
  }

  // A classifier whose test accuracy fell to chance and stayed there (train/collapse.hpp): the
  // chance level and the collapse go into the summary, where the reproductions read them.
  void note_collapse(const std::vector<nlohmann::ordered_json>& records,
                     nlohmann::ordered_json& s) const {
    const double chance = chance_accuracy(data_.test);
    if (!std::isfinite(chance)) return;
    s["chance_accuracy"] = chance;
    std::vector<AccuracyAt> curve;
    for (const auto& r : records) {
      const auto& a = r["test_accuracy"];
      curve.push_back({r["step"].get<std::uint64_t>(), a.is_number() ? a.get<double>() : NAN});
    }
    const std::optional<Collapse> collapse = find_collapse(curve, chance);
    if (collapse)
      s["collapsed"] = {{"step", collapse->step}, {"test_accuracy", collapse->accuracy}};
  }

  StopSignals signals_;  // first: installed before the data is loaded
  Clock::time_point created_;
  const TrainConfig& config_;
  std::string resume_;
  Communicator& communicator_;
  WorkerGroup group_;
  RunData data_;
  Clock::time_point loaded_;
  Clock::time_point first_step_;  // from the data loaded to here: the run's start-up
  Shards shards_;
  std::unique_ptr<Objective<T>> objective_;
  const Layout& layout_;
  Exchange exchange_;
  std::unique_ptr<Algorithm<T>> algorithm_;
  TrafficTotals totals_;
  Batches batches_;
  std::uint64_t steps_per_epoch_;
  std::uint64_t total_steps_;
  std::uint64_t eval_every_;
  std::unique_ptr<Compressor> compressor_;  // C's declared constants (δ) and the handshake
  Optimum optimum_;                         // convex objectives: filled after the handshake
  Stepper<T> stepper_;
  WorkerGradients<T> gradients_;
  Evaluator<T> evaluator_;
  RunCheckpoint<T> checkpoint_;
};

// Every rank builds its trainer and starts it together with the others (comm/start_agreement.hpp):
// an error one rank finds while reading its data or building its model is reported once, and no
// rank is left waiting in the handshake.
template <class T>
TrainResult train_as(const TrainConfig& config, Communicator& communicator,
                     const std::string& resume) {
  std::unique_ptr<Trainer<T>> trainer;
  start_together(communicator,
                 [&] { trainer = std::make_unique<Trainer<T>>(config, communicator, resume); });
  start_together(communicator, [&] { trainer->start(); });
  return trainer->run();
}

}  // namespace

TrainResult train(const TrainConfig& config, Communicator& communicator,
                  const std::string& resume) {
  if (config.precision == "double") return train_as<double>(config, communicator, resume);
  return train_as<float>(config, communicator, resume);
}

}  // namespace gradcomp
