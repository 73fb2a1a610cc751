#include "gradcomp/model/registry.hpp"

#include <fmt/format.h>

#include "gradcomp/compress/params.hpp"
#include "gradcomp/core/error.hpp"
#include "gradcomp/model/linear_objectives.hpp"
#include "gradcomp/model/torch_model.hpp"

namespace gradcomp {

bool reads_dense_rows_only(std::string_view spec) {
  const std::string_view name = spec.substr(0, spec.find(':'));
  return name == "mlp" || name == "lenet" || name == "resnet";
}

template <class T>
std::unique_ptr<Objective<T>> make_objective(std::string_view spec, const Dataset& train,
                                             std::uint64_t seed) {
  const std::size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  const std::string_view rest = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  using Kind = typename LinearObjective<T>::Kind;
  const auto linear = [&](Kind kind, const char* def) -> std::unique_ptr<Objective<T>> {
    const Params p = Params::parse(
        name, rest,
        {real_param(
            "l2", def, -1, 1e12,
            "l2 regularisation mu; -1 = 1e-4 times the curvature constant ([HardThreshold])")});
    return std::make_unique<LinearObjective<T>>(kind, train, p.canonical(),
                                                std::max(0.0, p.real("l2")), p.real("l2") < 0);
  };
  if (name == "logistic") return linear(Kind::kLogistic, "-1");
  if (name == "least-squares") return linear(Kind::kLeastSquares, "0");
  if (name == "softmax") return linear(Kind::kSoftmax, "0");
  if (name == "mlp" || name == "lenet" || name == "resnet") {
    if constexpr (std::is_same_v<T, float>) {
      std::vector<ParamSpec> specs;
      if (name == "mlp") {
        specs = {list_param("hidden", "128", 1, 1e6, "hidden layer widths, e.g. 256/128")};
      } else if (name == "resnet") {
        specs = {int_param("width", "16", 1, 1024, "channels of the first stage"),
                 int_param("blocks", "1", 1, 64,
                           "residual blocks per stage: 1 = ResNet-8, 3 = ResNet-20")};
      }
      const Params p = Params::parse(name, rest, specs);
      return make_torch_objective(name, p, train, seed);
    } else {
      throw InvalidInput(fmt::format(
          "model '{}' runs in float; set run.precision = \"float\" (double is for the analytic "
          "objectives)",
          name));
    }
  }
  throw InvalidInput(fmt::format(
      "unknown model '{}'; models: logistic, least-squares, softmax, mlp, lenet, resnet", name));
}

template std::unique_ptr<Objective<float>> make_objective(std::string_view, const Dataset&,
                                                          std::uint64_t);
template std::unique_ptr<Objective<double>> make_objective(std::string_view, const Dataset&,
                                                           std::uint64_t);

}  // namespace gradcomp
