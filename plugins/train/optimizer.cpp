#include "optimizer.hpp"

#include <cmath>

#include "pipeline/schema.hpp"

namespace pipeline::train {

namespace {
// Training-stage parameters that stand for the optimizer parameter of the same name.
const char* const shorthands[] = {"momentum", "nesterov", "weight_decay", "betas", "eps"};

std::string names_of(const std::vector<ParamSpec>& params) {
  std::string out;
  for (const auto& p : params) out += (out.empty() ? "" : ", ") + p.name;
  return out.empty() ? "none" : out;
}
}  // namespace

std::vector<ParamSpec> optimizer_choice_params() {
  return {
      param_registered("optimizer", "update rule: a registered optimizer (`pipeline inspect NAME` lists its parameters)",
                       "optimizer", std::string("sgd")),
      param_float("momentum", "the optimizer's momentum (sgd); default: the optimizer's").optional_value(),
      param_bool("nesterov", "Nesterov momentum (sgd); default: the optimizer's").optional_value(),
      param_float("weight_decay", "the optimizer's weight decay (L2 for sgd and adam, decoupled for adamw); default: the optimizer's")
          .optional_value(),
      param_list("betas", "the optimizer's beta1 and beta2 (adam, adamw); default: the optimizer's", ParamType::real)
          .optional_value(),
      param_float("eps", "the optimizer's epsilon (adam, adamw); default: the optimizer's").optional_value(),
      param("optimizer_params", ParamType::map, "parameters of the chosen optimizer by name, for those without a shorthand")
          .optional_value(),
  };
}

OptimizerChoice choose_optimizer(const Params& training, Diagnostics& diag) {
  const std::string& name = training.get_string("optimizer");
  const OptimizerInfo* info = find_optimizer(name);
  if (!info) {
    diag.error(training.location("optimizer"), "no optimizer '" + name + "' is registered");
    return {};
  }
  Value given = Value::map();
  for (const char* shorthand : shorthands) {
    if (!training.has(shorthand)) continue;
    bool taken = false;
    for (const auto& spec : info->params) taken = taken || spec.name == shorthand;
    if (taken) given.set(shorthand, training.get(shorthand), training.location(shorthand));
    else
      diag.error(training.location(shorthand), "parameter '" + std::string(shorthand) + "' does not apply to optimizer '" +
                                                   name + "' (its parameters: " + names_of(info->params) + ")");
  }
  if (training.has("optimizer_params")) {
    const Value& own = training.get("optimizer_params");
    for (const auto& [key, value] : own.entries()) given.set(key, value, own.key_location(key));
    given.at(own.location());
  }
  CountingDiagnostics counting(diag);
  OptimizerChoice choice{*info, check_params(info->params, given, "optimizer '" + name + "'",
                                             training.location("optimizer"), "/", counting)};
  if (counting.errors() == 0 && info->check) info->check(choice.params, diag);
  return choice;
}

OptimizerChoice builtin_optimizer(const std::string& name, const Value& params) {
  std::vector<OptimizerInfo> all = adam_optimizers();
  all.push_back(sgd_optimizer());
  for (auto& info : all)
    if (info.name == name) {
      ThrowingDiagnostics diag;
      Params checked = check_params(info.params, params, "optimizer '" + name + "'", {}, "/", diag);
      return OptimizerChoice{std::move(info), std::move(checked)};
    }
  throw Error(ErrorCode::internal, "no built-in optimizer '" + name + "'");
}

double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm) {
  double sq = 0;
  for (const Parameter* p : params)
    if (p->trainable && p->grad.numel() == p->value.numel())
      for (float x : p->grad.values()) sq += static_cast<double>(x) * x;
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));  // PyTorch's epsilon
    for (Parameter* p : params)
      if (p->trainable && p->grad.numel() == p->value.numel())
        for (float& x : p->grad.values()) x *= scale;
  }
  return norm;
}

}  // namespace pipeline::train
