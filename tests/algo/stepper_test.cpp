// The Stepper (algo/stepper.hpp), the stepping part shared by `gradcomp train` and the PyTorch
// optimizer: it drives an algorithm exactly as a hand-written loop with the schedule's rates does,
// counts steps, continues from a restored state bit-identically, and names the step, worker and
// layer of the first non-finite gradient or model value.
#include "gradcomp/algo/stepper.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>

#include "gradcomp/core/error.hpp"
#include "quadratics.hpp"

namespace gradcomp::testing {
namespace {

const AlgorithmChoice kDef{"def:kappa=0.5,momentum=0.9", "topk:k=3", "qsgd:levels=4"};
constexpr const char* kSchedule = "inverse:c=2,t0=3";

std::unique_ptr<Schedule> inverse_schedule() {
  return make_schedule(kSchedule, ScheduleContext{});
}

// Steps `steps` times from the stepper's counter on, each worker's gradient at its query point.
void drive(Stepper<double>& stepper, const Quadratics& problem, std::size_t steps) {
  for (std::size_t s = 0; s < steps; ++s) {
    const std::uint64_t t = stepper.next_step();
    std::vector<std::vector<double>> gradients;
    for (std::size_t j = 0; j < problem.workers; ++j) {
      gradients.push_back(problem.stochastic_gradient(t, j, stepper.query_point(j)));
    }
    stepper.step({gradients.begin(), gradients.end()});
  }
}

TEST(Stepper, DrivesTheAlgorithmAsALoopWithTheScheduleRates) {
  const Quadratics problem(4, 8, 0.3);
  const double unit = 0.25;
  const auto schedule = inverse_schedule();
  const RunResult expected =
      run(problem, kDef, 8, [&](std::size_t t) { return unit * schedule->rate(t); });

  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(4, local));
  const Layout layout = quadratics_layout();
  auto algorithm = make_algorithm<double>({exchange, layout, 9, kDef});
  algorithm->start(std::vector<double>(problem.dim, 0.0));
  Stepper<double> stepper(*algorithm, layout, inverse_schedule(), unit, 0);
  EXPECT_EQ(stepper.next_step(), 0U);
  EXPECT_EQ(stepper.rate(-1), 0.0);
  EXPECT_EQ(stepper.rate(5), unit * schedule->rate(5));
  drive(stepper, problem, 8);
  EXPECT_EQ(stepper.next_step(), 8U);
  const auto model = stepper.algorithm().model();
  EXPECT_EQ(std::vector<double>(model.begin(), model.end()), expected.models.back());
}

TEST(Stepper, ResumedFromRestoredStateEndsBitIdentical) {
  const Quadratics problem(4, 10, 0.3);
  const Layout layout = quadratics_layout();
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(4, local));

  auto straight = make_algorithm<double>({exchange, layout, 9, kDef});
  straight->start(std::vector<double>(problem.dim, 0.0));
  Stepper<double> straight_stepper(*straight, layout, inverse_schedule(), 1.0, 0);
  drive(straight_stepper, problem, 4);
  std::vector<std::vector<double>> saved;
  for (const auto& buffer : straight->state())
    saved.emplace_back(buffer.data.begin(), buffer.data.end());
  drive(straight_stepper, problem, 6);

  auto resumed = make_algorithm<double>({exchange, layout, 9, kDef});
  resumed->start(std::vector<double>(problem.dim, 1.0));  // overwritten by the restore
  const auto buffers = resumed->state();
  ASSERT_EQ(buffers.size(), saved.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    std::copy(saved[i].begin(), saved[i].end(), buffers[i].data.begin());
  }
  resumed->restored();
  Stepper<double> resumed_stepper(*resumed, layout, inverse_schedule(), 1.0, 0);
  resumed_stepper.resume_at(4);
  drive(resumed_stepper, problem, 6);
  EXPECT_EQ(resumed_stepper.next_step(), 10U);
  const auto a = straight->model();
  const auto b = resumed->model();
  EXPECT_EQ(std::vector<double>(a.begin(), a.end()), std::vector<double>(b.begin(), b.end()));
}

// A source that writes the detached point out and takes the problem's stochastic gradient there.
class QuadraticsSource final : public GradientSource<double> {
 public:
  QuadraticsSource(const Quadratics& problem, const Stepper<double>& stepper)
      : problem_(problem), stepper_(stepper), gradients_(problem.workers) {}
  std::span<const double> gradient_at(std::size_t j, const DetachedPoint<double>& point) override {
    std::vector<double> z(point.x.begin(), point.x.end());  // no error: the point is x
    for (std::size_t i = 0; i < point.error.size(); ++i) {
      z[i] = point.x[i] - point.kappa * point.error[i];
    }
    gradients_[j] = problem_.stochastic_gradient(stepper_.next_step(), j, z);
    stepper_.check_gradient(j, gradients_[j]);
    return gradients_[j];
  }

 private:
  const Quadratics& problem_;
  const Stepper<double>& stepper_;
  std::vector<std::vector<double>> gradients_;
};

// DEF without momentum computes its workers' gradients in their own tasks (the detached point
// never stored) with the bits of the step from gradients computed before it: the model, the
// evaluated model, every state buffer, the diagnostics (the error norms now taken in the task)
// and the query points written out on demand afterwards — for each member of the family, with
// weight decay, on one thread and on three. ef-scaled and the dist-ef family take theirs at x.
TEST(Stepper, ComputingTheGradientsInTheWorkersTasksGivesTheSameBits) {
  const Quadratics problem(4, 8, 0.3);
  const Layout layout = quadratics_layout();
  for (const std::string spec :
       {"def:kappa=0.3", "def:kappa=0.5,wd=0.01", "def-a", "saef", "psync", "ef-scaled",
        "dist-ef-sgd", "dist-ef-sgdm:momentum=0.9,wd=0.01", "dist-ef-blocksgdm:block=4"}) {
    for (const std::size_t threads : {1UL, 3UL}) {
      for (const std::string compressor : {"topk:k=3", "rbgs:ratio=4"}) {
        const AlgorithmChoice choice{spec, compressor, "identity"};
        LocalCommunicator local;
        Exchange exchange(local, WorkerGroup::split(4, local), threads);
        auto given = make_algorithm<double>({exchange, layout, 9, choice});
        auto computing = make_algorithm<double>({exchange, layout, 9, choice});
        ASSERT_TRUE(computing->computes_gradients()) << spec;
        given->start(std::vector<double>(problem.dim, 0.0));
        computing->start(std::vector<double>(problem.dim, 0.0));
        Stepper<double> given_stepper(*given, layout, inverse_schedule(), 0.25, 0);
        Stepper<double> computing_stepper(*computing, layout, inverse_schedule(), 0.25, 0);
        QuadraticsSource source(problem, computing_stepper);
        for (std::size_t t = 0; t < 8; ++t) {
          drive(given_stepper, problem, 1);
          computing_stepper.step_computing(source);
          const auto context =
              fmt::format("{} + {}, {} threads, step {}", spec, compressor, threads, t);
          for (std::size_t j = 0; j < problem.workers; ++j) {
            const auto a = given->query_point(j);
            const auto b = computing->query_point(j);
            ASSERT_EQ(std::vector<double>(a.begin(), a.end()),
                      std::vector<double>(b.begin(), b.end()))
                << context << ", worker " << j;
          }
          const auto given_state = given->state();
          const auto computing_state = computing->state();
          ASSERT_EQ(given_state.size(), computing_state.size());
          for (std::size_t k = 0; k < given_state.size(); ++k) {
            ASSERT_EQ(
                std::vector<double>(given_state[k].data.begin(), given_state[k].data.end()),
                std::vector<double>(computing_state[k].data.begin(), computing_state[k].data.end()))
                << context << ", " << given_state[k].name;
          }
          std::vector<double> y_given(problem.dim), y_computing(problem.dim);
          given->evaluated_model(y_given);
          computing->evaluated_model(y_computing);
          ASSERT_EQ(y_given, y_computing) << context;
          const Diagnostics a = given->diagnostics();
          const Diagnostics b = computing->diagnostics();
          ASSERT_EQ(a.total_error, b.total_error) << context;
          ASSERT_EQ(a.mean_error_norm2, b.mean_error_norm2) << context;
          ASSERT_EQ(a.def_distance, b.def_distance) << context;
        }
      }
    }
  }
}

// Momentum keeps DEF on the step from given gradients, as the algorithms not written on
// TaskGradients; asking them to compute their own is an internal error.
TEST(Stepper, OnlyTheAlgorithmsWrittenForItComputeTheirWorkersGradients) {
  const Quadratics problem(2, 1, 0.3);
  const Layout layout = quadratics_layout();
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(2, local));
  for (const std::string spec : {"def:momentum=0.9", "ef", "sgd", "diana"}) {
    auto algorithm = make_algorithm<double>({exchange, layout, 9, {spec, "topk:k=3", "identity"}});
    algorithm->start(std::vector<double>(problem.dim, 0.0));
    EXPECT_FALSE(algorithm->computes_gradients()) << spec;
    Stepper<double> stepper(*algorithm, layout, inverse_schedule(), 1.0, 0);
    QuadraticsSource source(problem, stepper);
    EXPECT_THROW(stepper.step_computing(source), InternalError) << spec;
  }
}

std::string diverged_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Diverged& e) {
    return e.what();
  }
  return "no Diverged";
}

TEST(Stepper, NamesTheStepWorkerAndLayerOfANonFiniteGradient) {
  const Layout layout = quadratics_layout();  // layer0: 3×2, layer1: 6
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(2, local));
  auto algorithm = make_algorithm<double>({exchange, layout, 9, {"sgd", "identity", "identity"}});
  algorithm->start(std::vector<double>(12, 0.0));
  Stepper<double> stepper(*algorithm, layout, make_schedule("constant:lr=0.1", {}), 1.0, 6);
  std::vector<double> fine(12, 1.0);
  std::vector<double> bad(12, 1.0);
  bad[7] = std::numeric_limits<double>::quiet_NaN();
  stepper.step({fine, fine});
  EXPECT_EQ(diverged_message([&] {
              stepper.step({fine, bad});
            }),
            "step 1, worker 7: the gradient has NaN at index 7 (layer 'layer1'); the run diverged "
            "— lower the learning rate or the compression ratio");
  EXPECT_EQ(stepper.next_step(), 1U) << "a refused step must not count";
  bad[7] = 1.0;
  bad[2] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(diverged_message([&] {
              stepper.step({bad, fine});
            }),
            "step 1, worker 6: the gradient has an infinity at index 2 (layer 'layer0'); the run "
            "diverged — lower the learning rate or the compression ratio");
}

TEST(Stepper, NamesAModelThatOverflowed) {
  const Layout layout = quadratics_layout();
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(1, local));
  auto algorithm = make_algorithm<float>({exchange, layout, 9, {"sgd", "identity", "identity"}});
  algorithm->start(std::vector<float>(12, 0.0F));
  Stepper<float> stepper(*algorithm, layout, make_schedule("constant:lr=10", {}), 1.0, 0);
  std::vector<float> huge(12, 0.0F);
  huge[10] = 3e38F;  // finite, but γ·g is not in float
  EXPECT_EQ(diverged_message([&] { stepper.step({huge}); }),
            "step 0: the model has an infinity at index 10 (layer 'layer1'); the run "
            "diverged — lower the learning rate or the compression ratio");
}

// A value its wire format cannot hold ends the step as a diverged run, with the compressor's
// words on what to change (the reproduction suite counts such runs instead of stopping).
TEST(Stepper, NamesAValueTheWireFormatCannotHold) {
  const Layout layout = quadratics_layout();
  LocalCommunicator local;
  Exchange exchange(local, WorkerGroup::split(1, local));
  auto algorithm =
      make_algorithm<float>({exchange, layout, 9, {"sgd", "topk:k=2,values=fp16", "identity"}});
  algorithm->start(std::vector<float>(12, 0.0F));
  Stepper<float> stepper(*algorithm, layout, make_schedule("constant:lr=1", {}), 1.0, 0);
  std::vector<float> large(12, 1.0F);
  large[4] = 70000.0F;
  EXPECT_EQ(diverged_message([&] { stepper.step({large}); }),
            "step 0: topk: a value of 70000 overflows fp16 (largest finite 65504); scale the "
            "vector down or send wider values (values = \"fp32\" or \"fp64\")");
  EXPECT_EQ(stepper.next_step(), 0U) << "a refused step must not count";
}

}  // namespace
}  // namespace gradcomp::testing
