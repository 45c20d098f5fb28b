// subset: keeps (and relabels) classes of a dataset and samples K per class, seeded.
#include <memory>

#include "pipeline/sdk.hpp"
#include "sampling.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

class Subset : public Stage {
 public:
  explicit Subset(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto in = ctx.input_as<Dataset>("data");
    const std::string source = "input of stage '" + ctx.stage_id() + "'";
    Selection s = select_classes(in->labels(), params_.get_int_list("classes"), in->class_names(), source);
    Rng rng(ctx.seed());
    if (const auto k = params_.get_int("per_class"); k > 0) s = take_per_class(s, k, rng, source);
    Dataset picked = in->subset(s.indices);
    auto out = std::make_shared<Dataset>(picked.features(), s.labels, s.class_names);
    ctx.log("kept " + std::to_string(out->size()) + " of " + std::to_string(in->size()) + " samples, " +
            std::to_string(out->num_classes()) + " classes");
    ctx.metric("samples", Value::integer(out->size()));
    ctx.set_output("data", out);
  }

 private:
  Params params_;
};

}  // namespace

StageInfo subset_stage() {
  StageInfo info;
  info.name = "subset";
  info.doc = "keep and relabel classes of a dataset, and sample K per class (seeded)";
  info.inputs = {{"data", "dataset", "the dataset to take samples from"}};
  info.outputs = {{"data", "dataset", "the kept samples, labels 0..n-1 in the order of 'classes'"}};
  info.params = {
      param_list("classes", "keep these classes, relabelled 0..n-1 in this order; empty keeps all",
                 ParamType::integer, Value::list())
          .range(0, std::nullopt),
      param_int("per_class", "keep this many samples per class, chosen with the stage's seed; 0 keeps all", 0)
          .range(0, std::nullopt),
  };
  info.create = [](const Params& p) { return std::make_unique<Subset>(p); };
  info.uses_seed = [](const Params& p) { return p.get_int("per_class") > 0; };
  info.check = check_unique_classes;
  return info;
}

}  // namespace pipeline::data
