// gradcomp.Optimizer: any algorithm of the registry, driven by the same Stepper as `gradcomp train`
// (algo/stepper.hpp), for the workers this process hosts: all n simulated in one process
// (backend "local") or one rank's share under mpirun (backend "mpi", MPI started by the module).
// Gradients come in and the query points, models and state go out as NumPy arrays or CPU tensors;
// gradcomp/torch.py builds the PyTorch optimizer on it. docs/python.md documents the API.
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include "bindings.hpp"
#include "gradcomp/algo/diagnostics_record.hpp"
#include "gradcomp/algo/registry.hpp"
#include "gradcomp/algo/stepper.hpp"
#include "gradcomp/comm/handshake.hpp"
#include "gradcomp/comm/local_communicator.hpp"
#include "gradcomp/compress/registry.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/exchange/handshake_fields.hpp"
#include "gradcomp/exchange/traffic_totals.hpp"
#include "mpi_runtime.hpp"
#include "vector_view.hpp"

namespace gradcomp::python {

namespace {

// What the user chose, as the constructor's keyword arguments.
struct OptimizerSpec {
  std::string algorithm;
  std::string compressor;
  std::string quantizer;
  std::string schedule;
  std::size_t workers = 0;  // 0: one per process
  std::uint64_t steps_per_epoch = 1;
  std::uint64_t total_steps = 1;
  std::string backend;
  std::uint64_t seed = 0;
  std::string network;
};

// The part of the optimizer that depends on the value type (float or double).
class Core {
 public:
  virtual ~Core() = default;
  virtual void query_point(std::size_t local_worker, const VectorView& out) const = 0;
  virtual void step(const std::vector<VectorView>& gradients) = 0;
  virtual void model(const VectorView& out) const = 0;
  virtual void evaluated_model(const VectorView& out) = 0;
  [[nodiscard]] virtual py::dict state() = 0;
  virtual void load_state(const py::dict& state) = 0;
  [[nodiscard]] virtual nlohmann::ordered_json stats() = 0;
  [[nodiscard]] virtual std::uint64_t next_step() const = 0;
  [[nodiscard]] virtual double rate(std::int64_t step) const = 0;
  [[nodiscard]] virtual const std::string& spec() const = 0;
};

template <class T>
class TypedCore final : public Core {
 public:
  TypedCore(Exchange& exchange, const Layout& layout, const OptimizerSpec& spec,
            std::span<const T> x0, std::unique_ptr<Schedule> schedule)
      : algorithm_(make_algorithm<T>(
            {exchange, layout, spec.seed, {spec.algorithm, spec.compressor, spec.quantizer}})),
        stepper_(*algorithm_, layout, std::move(schedule), 1.0, exchange.workers().first),
        totals_(NetworkModel::parse(spec.network), layout.total_size(), spec.workers),
        hosted_(exchange.workers().count) {
    algorithm_->start(x0);
  }

  void query_point(std::size_t j, const VectorView& out) const override {
    const auto point = stepper_.query_point(j);
    std::copy(point.begin(), point.end(), out.as<T>().begin());
  }

  void step(const std::vector<VectorView>& gradients) override {
    std::vector<std::span<const T>> views;
    views.reserve(gradients.size());
    for (const VectorView& g : gradients) views.push_back(g.as<const T>());
    const auto start = std::chrono::steady_clock::now();
    stepper_.step(views);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    totals_.add_step(algorithm_->traffic(), seconds, hosted_);
  }

  void model(const VectorView& out) const override {
    const auto x = algorithm_->model();
    std::copy(x.begin(), x.end(), out.as<T>().begin());
  }

  void evaluated_model(const VectorView& out) override { algorithm_->evaluated_model(out.as<T>()); }

  // Every named buffer (copied), the step, the algorithm's running totals and the traffic totals.
  py::dict state() override {
    py::dict buffers;
    for (const auto& buffer : algorithm_->state()) {
      py::array_t<T> copy(static_cast<py::ssize_t>(buffer.data.size()));
      std::copy(buffer.data.begin(), buffer.data.end(), copy.mutable_data());
      buffers[py::str(buffer.name)] = copy;
    }
    py::dict state;
    state["buffers"] = buffers;
    state["step"] = stepper_.next_step();
    state["algorithm_totals"] = algorithm_->totals();
    state["traffic_totals"] = totals_.checkpoint(stepper_.next_step()).dump();
    state["algorithm"] = algorithm_->spec();
    return state;
  }

  void load_state(const py::dict& state) override {
    for (const char* key : {"buffers", "step", "algorithm_totals", "traffic_totals", "algorithm"}) {
      require(state.contains(key),
              "load_state: the state has no '{}'; give what Optimizer.state() returned", key);
    }
    const auto saved_spec = state["algorithm"].cast<std::string>();
    require(saved_spec == algorithm_->spec(),
            "load_state: the state is of '{}', this optimizer runs '{}'; build the optimizer with "
            "the algorithm the state was saved from",
            saved_spec, algorithm_->spec());
    const auto buffers = state["buffers"].cast<py::dict>();
    const auto own = algorithm_->state();
    require(buffers.size() == own.size(),
            "load_state: the state holds {} buffers, this optimizer {}: it was saved by another "
            "configuration",
            buffers.size(), own.size());
    for (const auto& buffer : own) {
      require(buffers.contains(buffer.name),
              "load_state: the state has no buffer '{}': it was saved by another configuration",
              buffer.name);
      const VectorView saved =
          view_vector(buffers[py::str(buffer.name)], "load_state: a buffer", Access::kRead);
      require(saved.size == buffer.data.size() && saved.is_double == std::is_same_v<T, double>,
              "load_state: buffer '{}' has {} {} values, this optimizer {} {}", buffer.name,
              saved.size, saved.is_double ? "float64" : "float32", buffer.data.size(),
              std::is_same_v<T, double> ? "float64" : "float32");
      const auto values = saved.as<const T>();
      std::copy(values.begin(), values.end(), buffer.data.begin());
    }
    algorithm_->restore_totals(state["algorithm_totals"].cast<std::vector<double>>());
    algorithm_->restored();
    totals_.restore(nlohmann::ordered_json::parse(state["traffic_totals"].cast<std::string>()));
    stepper_.resume_at(state["step"].cast<std::uint64_t>());
  }

  // The names and units of metrics.jsonl (docs/outputs.md). Collective: the diagnostics reduce.
  nlohmann::ordered_json stats() override {
    nlohmann::ordered_json r;
    const std::uint64_t steps = stepper_.next_step();
    r["step"] = steps;
    r["lr"] = stepper_.rate(static_cast<std::int64_t>(steps) - 1);
    const Diagnostics diag = steps > 0 ? algorithm_->diagnostics() : Diagnostics{};
    write_diagnostics(diag, r);
    totals_.write_record(r);
    return r;
  }

  [[nodiscard]] std::uint64_t next_step() const override { return stepper_.next_step(); }
  [[nodiscard]] double rate(std::int64_t step) const override { return stepper_.rate(step); }
  [[nodiscard]] const std::string& spec() const override { return algorithm_->spec(); }

 private:
  std::unique_ptr<Algorithm<T>> algorithm_;
  Stepper<T> stepper_;
  TrafficTotals totals_;
  std::size_t hosted_;
};

class PyOptimizer {
 public:
  PyOptimizer(Layout layout, const py::handle& x0, OptimizerSpec spec)
      : layout_(std::move(layout)), communicator_(make_communicator(spec.backend)) {
    if (spec.workers == 0) spec.workers = communicator_->size();
    spec_ = spec;
    group_ = WorkerGroup::split(spec.workers, *communicator_);
    exchange_ = std::make_unique<Exchange>(*communicator_, group_);
    const VectorView start = view_vector(x0, "Optimizer: x0", Access::kRead);
    require(start.size == layout_.total_size(),
            "Optimizer: x0 has {} values, the layout {}; give the model's flat parameters",
            start.size, layout_.total_size());
    is_double_ = start.is_double;
    const auto compressor = make_compressor(spec.compressor);
    require_schedule_counts(spec);
    const ScheduleContext context{std::max<std::uint64_t>(spec.total_steps, 1),
                                  std::max<std::uint64_t>(spec.steps_per_epoch, 1), spec.workers,
                                  compressor->constants(layout_).delta.value_or(1.0)};
    auto schedule = make_schedule(spec.schedule, context);
    handshake(*compressor);
    if (is_double_) {
      core_ = std::make_unique<TypedCore<double>>(*exchange_, layout_, spec,
                                                  start.as<const double>(), std::move(schedule));
    } else {
      core_ = std::make_unique<TypedCore<float>>(*exchange_, layout_, spec, start.as<const float>(),
                                                 std::move(schedule));
    }
  }

  [[nodiscard]] const Layout& layout() const { return layout_; }
  [[nodiscard]] const WorkerGroup& group() const { return group_; }
  [[nodiscard]] const Communicator& communicator() const { return *communicator_; }
  [[nodiscard]] bool is_double() const { return is_double_; }
  [[nodiscard]] Core& core() { return *core_; }
  [[nodiscard]] const OptimizerSpec& spec() const { return spec_; }

  // out (or a new array) ← hosted worker j's query point.
  py::object query_point(std::size_t j, const py::object& out) const {
    check_local_worker(j);
    py::object target = out.is_none() ? new_vector() : out;
    const VectorView view = writable(target, "query_point: out");
    core_->query_point(j, view);
    return target;
  }

  void step(const py::sequence& gradients) {
    require(gradients.size() == group_.count,
            "step: {} gradients for the {} workers this process hosts; give one per hosted worker "
            "(Optimizer.hosted)",
            gradients.size(), group_.count);
    std::vector<VectorView> views;
    for (const py::handle g : gradients) {
      views.push_back(
          matching(view_vector(g, "step: a gradient", Access::kRead), "step: a gradient"));
    }
    collective([&] {
      py::gil_scoped_release unlocked;
      core_->step(views);
    });
  }

  py::object model(const py::object& out) const {
    py::object target = out.is_none() ? new_vector() : out;
    core_->model(writable(target, "model: out"));
    return target;
  }

  py::object evaluated_model(const py::object& out) {
    py::object target = out.is_none() ? new_vector() : out;
    const VectorView view = writable(target, "evaluated_model: out");
    collective([&] { core_->evaluated_model(view); });
    return target;
  }

  py::object stats() {
    nlohmann::ordered_json r;
    collective([&] { r = core_->stats(); });
    return py::module_::import("json").attr("loads")(r.dump());
  }

 private:
  static std::unique_ptr<Communicator> make_communicator(const std::string& backend) {
    if (backend == "local") return std::make_unique<LocalCommunicator>();
    if (backend == "mpi") return make_mpi_communicator();
    throw InvalidInput(fmt::format(
        "Optimizer: backend '{}' is not known; use 'local' (every worker in this process) or "
        "'mpi' (one share of the workers per rank, under mpirun)",
        backend));
  }

  // Epoch milestones need the epoch's length and [BlockEF]'s schedules the run's length: a schedule
  // computed with a guessed one would be silently wrong.
  static void require_schedule_counts(const OptimizerSpec& spec) {
    const std::string kind = spec.schedule.substr(0, spec.schedule.find(':'));
    require(spec.total_steps > 0 || kind.rfind("s002-", 0) != 0,
            "Optimizer: schedule '{}' is computed from the run's total number of steps T; give "
            "total_steps",
            spec.schedule);
    require(spec.steps_per_epoch > 0 || kind != "step" ||
                spec.schedule.find("epochs=") == std::string::npos,
            "Optimizer: schedule '{}' has epoch milestones; give steps_per_epoch (the steps of "
            "one epoch)",
            spec.schedule);
  }

  // The fields of `gradcomp train`'s handshake that a Python run has (its data is the user's).
  void handshake(const Compressor& compressor) {
    auto fields = exchange_fields(group_, layout_, compressor, Pattern::kAllgather,
                                  is_double_ ? "double" : "float");
    fields.push_back({"algorithm", spec_.algorithm});
    fields.push_back({"quantizer", spec_.quantizer});
    fields.push_back({"schedule", spec_.schedule});
    fields.push_back({"seed", std::to_string(spec_.seed)});
    gradcomp::handshake(*communicator_, fields);
  }

  // Under mpi, an error on one rank while the others wait in a collective would hang the job:
  // like `gradcomp train`, the rank says what happened and the job ends (MPI_Abort).
  template <class Body>
  void collective(Body&& body) {
    if (communicator_->size() == 1) return body();
    try {
      body();
    } catch (const AgreedError&) {
      throw;
    } catch (const std::exception& e) {
      abort_job(communicator_->rank(), communicator_->size(), e.what());
    }
  }

  void check_local_worker(std::size_t j) const {
    require(j < group_.count,
            "worker {} is not hosted here: this process hosts {} workers, local indices 0..{} "
            "(global {}..{})",
            j, group_.count, group_.count - 1, group_.first, group_.first + group_.count - 1);
  }

  [[nodiscard]] py::object new_vector() const {
    const auto n = static_cast<py::ssize_t>(layout_.total_size());
    if (is_double_) return py::array_t<double>(n);
    return py::array_t<float>(n);
  }

  VectorView matching(VectorView view, const char* what) const {
    require(view.size == layout_.total_size(), "{}: {} values, the model has {}", what, view.size,
            layout_.total_size());
    require(view.is_double == is_double_, "{}: {} values, the optimizer works in {}; convert it",
            what, view.is_double ? "float64" : "float32", is_double_ ? "float64" : "float32");
    return view;
  }

  [[nodiscard]] VectorView writable(const py::handle& target, const char* what) const {
    return matching(view_vector(target, what, Access::kWrite), what);
  }

  Layout layout_;
  std::unique_ptr<Communicator> communicator_;
  OptimizerSpec spec_;
  WorkerGroup group_;
  std::unique_ptr<Exchange> exchange_;
  bool is_double_ = false;
  std::unique_ptr<Core> core_;
};

}  // namespace

void bind_optimizer(py::module_& module) {
  py::class_<PyOptimizer>(module, "Optimizer",
                          "Any gradcomp algorithm stepping the workers this process hosts "
                          "(docs/python.md, 'Optimizer').")
      .def(py::init([](const Layout& layout, const py::handle& x0, const std::string& algorithm,
                       const std::string& compressor, const std::string& quantizer,
                       const std::string& schedule, std::size_t workers,
                       std::uint64_t steps_per_epoch, std::uint64_t total_steps,
                       const std::string& backend, std::uint64_t seed, const std::string& network) {
             return std::make_unique<PyOptimizer>(
                 layout, x0,
                 OptimizerSpec{algorithm, compressor, quantizer, schedule, workers, steps_per_epoch,
                               total_steps, backend, seed, network});
           }),
           py::arg("layout"), py::arg("x0"), py::kw_only(), py::arg("algorithm") = "sgd",
           py::arg("compressor") = "identity", py::arg("quantizer") = "qsgd:levels=4",
           py::arg("schedule") = "constant:lr=0.1", py::arg("workers") = 0,
           py::arg("steps_per_epoch") = 0, py::arg("total_steps") = 0, py::arg("backend") = "local",
           py::arg("seed") = 0, py::arg("network") = "1Gbit")
      .def_property_readonly("algorithm", [](PyOptimizer& o) { return o.core().spec(); })
      .def_property_readonly("layout", &PyOptimizer::layout)
      .def_property_readonly(
          "dtype", [](const PyOptimizer& o) { return o.is_double() ? "float64" : "float32"; })
      .def_property_readonly("workers", [](const PyOptimizer& o) { return o.group().total; })
      .def_property_readonly("hosted",
                             [](const PyOptimizer& o) {
                               std::vector<std::size_t> ids(o.group().count);
                               for (std::size_t j = 0; j < ids.size(); ++j)
                                 ids[j] = o.group().first + j;
                               return ids;
                             })
      .def_property_readonly("rank", [](const PyOptimizer& o) { return o.communicator().rank(); })
      .def_property_readonly("ranks", [](const PyOptimizer& o) { return o.communicator().size(); })
      .def_property_readonly("next_step", [](PyOptimizer& o) { return o.core().next_step(); })
      .def(
          "rate", [](PyOptimizer& o, std::int64_t t) { return o.core().rate(t); }, py::arg("step"),
          "γ_t of the schedule (0 for t = -1).")
      .def("query_point", &PyOptimizer::query_point, py::arg("worker"), py::arg("out") = py::none(),
           "Where hosted worker `worker` (0-based, local) computes its next gradient.")
      .def("step", &PyOptimizer::step, py::arg("gradients"),
           "One step from the hosted workers' gradients, each at its query_point.")
      .def("model", &PyOptimizer::model, py::arg("out") = py::none(),
           "x_t, the synchronized model.")
      .def("evaluated_model", &PyOptimizer::evaluated_model, py::arg("out") = py::none(),
           "The model the algorithm outputs (DEF: y = x - mean error). Collective.")
      .def(
          "state", [](PyOptimizer& o) { return o.core().state(); },
          "Every state buffer (copied), the step and the running totals.")
      .def(
          "load_state", [](PyOptimizer& o, const py::dict& state) { o.core().load_state(state); },
          py::arg("state"))
      .def("stats", &PyOptimizer::stats,
           "The last step's and the running traffic and diagnostics, named as in metrics.jsonl. "
           "Collective.");
}

}  // namespace gradcomp::python
