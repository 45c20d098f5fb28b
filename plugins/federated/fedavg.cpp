// fedavg: the server step of federated averaging (McMahan et al. 2017): the clients' models,
// trained from the same global model, averaged parameter by parameter, each weighted by the
// number of samples it trained on (n_k / n), or equally. Buffers (batch-norm statistics) are
// averaged the same way. The sum runs over the inputs in the order the config lists them, in
// double precision, so the result is the same whatever order the clients finished in.
#include <cmath>
#include <memory>

#include "federated_stages.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::federated {
namespace {

// The number of samples a model last trained on, as the training loop notes it.
double samples_of(const Model& model, const std::string& input) {
  const Value* n = model.notes().find("train_samples");
  if (!n || !n->is_number() || !(n->as_float() > 0))
    throw Error(ErrorCode::data_format, "input '" + input +
                                            "' does not record how many samples it trained on (connect a train or "
                                            "finetune stage, or set weighting: uniform)");
  return n->as_float();
}

class FedAvg : public Stage {
 public:
  explicit FedAvg(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    const std::vector<std::string> names = ctx.input_names();
    if (names.empty()) throw Error(ErrorCode::missing_input, "fedavg needs at least one client model");
    const bool by_samples = params_.get_string("weighting") == "samples";
    std::vector<double> weights;
    double total = 0, seconds = 0;  // seconds: the round's training time, every client's summed
    for (const auto& name : names) {
      auto model = ctx.input_as<Model>(name);
      const double w = by_samples ? samples_of(*model, name) : 1.0;
      weights.push_back(w);
      total += w;
      if (const Value* t = model->notes().find("train_seconds"); t && t->is_number()) seconds += t->as_float();
    }

    // The first client's copy holds the average; each client is cloned in turn, read and dropped,
    // so at most two models and the sums are in memory.
    std::shared_ptr<Model> global = ctx.input_as<Model>(names.front())->clone();
    const auto reference = global->named_parameters();
    std::vector<std::vector<double>> sums(reference.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
      ctx.throw_if_stopped();
      std::shared_ptr<Model> client = ctx.input_as<Model>(names[k])->clone();
      const auto params = client->named_parameters();
      check_same_structure(reference, params, names.front(), names[k]);
      const double w = weights[k] / total;
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor& v = params[i].param->value;
        auto& sum = sums[i];
        sum.resize(static_cast<std::size_t>(v.numel()), 0.0);
        for (std::int64_t j = 0; j < v.numel(); ++j) sum[static_cast<std::size_t>(j)] += w * v.data()[j];
      }
    }
    for (std::size_t i = 0; i < reference.size(); ++i) {
      Parameter& p = *reference[i].param;
      for (std::int64_t j = 0; j < p.value.numel(); ++j) {
        const double s = sums[i][static_cast<std::size_t>(j)];
        p.value.data()[j] = static_cast<float>(p.integer ? std::round(s) : s);
      }
    }

    global->notes().set("train_seconds", Value::real(seconds));
    global->notes().set("train_samples", Value::real(by_samples ? total : static_cast<double>(names.size())));
    global->notes().set("federated_clients", Value::integer(static_cast<std::int64_t>(names.size())));
    Value shares = Value::map();
    for (std::size_t k = 0; k < names.size(); ++k) shares.set(names[k], Value::real(weights[k] / total));
    ctx.log("averaged " + std::to_string(names.size()) + " client models" +
            (by_samples ? ", weighted by their " + std::to_string(static_cast<long long>(total)) + " samples" : ""));
    ctx.metric("clients", Value::integer(static_cast<std::int64_t>(names.size())));
    if (by_samples) ctx.metric("samples", Value::integer(static_cast<std::int64_t>(total)));
    ctx.metric("weights", shares);
    ctx.set_output("model", std::shared_ptr<const Model>(global));
  }

 private:
  static void check_same_structure(const std::vector<Model::NamedParameter>& a,
                                   const std::vector<Model::NamedParameter>& b, const std::string& first,
                                   const std::string& other) {
    auto differ = [&](const std::string& what) {
      throw Error(ErrorCode::data_format,
                  "input '" + other + "' is not the same network as '" + first + "': " + what +
                      " (the clients must train copies of one global model)");
    };
    if (a.size() != b.size())
      differ(std::to_string(b.size()) + " parameters against " + std::to_string(a.size()));
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].name != b[i].name) differ("parameter " + std::to_string(i) + " is '" + b[i].name + "', not '" + a[i].name + "'");
      if (a[i].param->value.shape() != b[i].param->value.shape())
        differ("'" + a[i].name + "' has shape " + to_string(b[i].param->value.shape()) + ", not " +
               to_string(a[i].param->value.shape()));
    }
  }

  Params params_;
};

}  // namespace

StageInfo fedavg_stage() {
  StageInfo info;
  info.name = "fedavg";
  info.doc = "federated averaging: the clients' models averaged parameter by parameter, weighted by their training samples";
  PortSpec clients{"client", "model", "a client's locally trained model; the input's name labels it"};
  clients.variadic = true;
  info.inputs = {clients};
  info.outputs = {{"model", "model", "the new global model (the first client's structure and frozen layers)"}};
  info.params = {
      param_enum("weighting",
                 "samples: each client by n_k / n, the samples its training saw (FedAvg); uniform: every client equally",
                 {"samples", "uniform"}, std::string("samples")),
  };
  info.create = [](const Params& p) { return std::make_unique<FedAvg>(p); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random
  info.examples = {parse_value("{weighting: uniform}")};
  return info;
}

}  // namespace pipeline::federated
