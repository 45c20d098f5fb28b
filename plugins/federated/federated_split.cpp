// federated_split: one client's share of a dataset split among N clients, IID (every class dealt
// evenly) or non-IID (each client's label distribution drawn from Dirichlet(alpha), Hsu et al.
// 2019). Every client is its own stage instance; they compute the same partition because they
// draw it from a seed shared by name (StageContext::shared_seed), not from their own.
#include <memory>

#include "pipeline/sdk.hpp"
#include "federated_partition.hpp"
#include "federated_stages.hpp"

namespace pipeline::federated {
namespace {

class FederatedSplit : public Stage {
 public:
  explicit FederatedSplit(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto in = ctx.input_as<Dataset>("data");
    FederatedOptions o;
    o.clients = params_.get_int("clients");
    o.distribution = params_.get_string("distribution");
    o.alpha = params_.get_float("alpha");
    const std::int64_t client = params_.get_int("client");
    Rng rng(ctx.shared_seed("federated_split:" + params_.get_string("partition")));
    const auto parts = federated_partition(*in, o, rng, "input of stage '" + ctx.stage_id() + "'");
    auto out = std::make_shared<Dataset>(in->subset(parts[static_cast<std::size_t>(client)]));

    // Every client's class counts, so one stage's metrics show the whole partition.
    Value all = Value::list();
    for (const auto& part : parts) {
      std::vector<std::int64_t> counts(static_cast<std::size_t>(in->num_classes()), 0);
      for (auto i : part) ++counts[static_cast<std::size_t>(in->labels()[static_cast<std::size_t>(i)])];
      Value row = Value::list();
      for (auto c : counts) row.push_back(Value::integer(c));
      all.push_back(row);
    }
    const Value& mine = all.items()[static_cast<std::size_t>(client)];
    std::string line = "client " + std::to_string(client) + " of " + std::to_string(o.clients) + ": " +
                       std::to_string(out->size()) + " of " + std::to_string(in->size()) + " samples; per class " +
                       mine.str();
    ctx.log(line);
    ctx.metric("samples", Value::integer(out->size()));
    ctx.metric("per_class", mine);
    ctx.metric("clients_per_class", all);
    ctx.set_output("data", out);
  }

 private:
  Params params_;
};

void check_federated_split(const Params& p, Diagnostics& diag) {
  if (p.get_int("client") >= p.get_int("clients"))
    diag.error(p.location("client"), "client " + std::to_string(p.get_int("client")) + " does not exist: clients are 0.." +
                                         std::to_string(p.get_int("clients") - 1));
  if (!(p.get_float("alpha") > 0))
    diag.error(p.location("alpha"), "alpha must be > 0 (small: each client holds few classes; large: close to IID), got " +
                                        p.get("alpha").str());
}

}  // namespace

StageInfo federated_split_stage() {
  StageInfo info;
  info.name = "federated_split";
  info.doc = "one client's share of a dataset split among N clients, IID or with Dirichlet(alpha) label distributions";
  info.inputs = {{"data", "dataset", "the dataset to split"}};
  info.outputs = {{"data", "dataset", "this client's samples, same classes and labels, in their original order"}};
  info.params = {
      param_int("clients", "number of clients the data is split among").range(1, 10000),
      param_int("client", "which client's share this stage outputs, 0..clients-1").range(0, 9999),
      param_enum("distribution",
                 "iid: each class dealt evenly to every client (needs every class to have at least `clients` samples); "
                 "dirichlet: each client's classes in Dirichlet(alpha) proportions (Hsu et al. 2019), every client "
                 "holding n / clients samples",
                 {"iid", "dirichlet"}, std::string("iid")),
      param_float("alpha", "distribution dirichlet: concentration; 0.1 gives each client few classes, 100 is near IID; > 0",
                  0.5)
          .range(0, 1e6),
      param_string("partition",
                   "the name of the partition: the client stages of one split share it, and draw the partition from the "
                   "experiment's (or sweep trial's) seed and this name, so all of them agree",
                   std::string("federated")),
  };
  info.check = check_federated_split;
  info.create = [](const Params& p) { return std::make_unique<FederatedSplit>(p); };
  info.examples = {parse_value("{clients: 2, client: 1}"),
                   parse_value("{clients: 2, client: 0, distribution: dirichlet, alpha: 1}")};
  return info;
}

}  // namespace pipeline::federated
