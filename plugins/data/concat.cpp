// concat: one dataset from two, e.g. a source domain and a target domain, or real and synthetic
// samples; classes must agree, or are merged by name on request.
#include <memory>

#include "pipeline/sdk.hpp"
#include "stages.hpp"
#include "transforms.hpp"

namespace pipeline::data {
namespace {

class Concat : public Stage {
 public:
  explicit Concat(const Params& p) : merge_classes_(p.get_bool("merge_classes")) {}

  void run(StageContext& ctx) override {
    auto first = ctx.input_as<Dataset>("first");
    auto second = ctx.input_as<Dataset>("second");
    auto out = std::make_shared<Dataset>(concat_datasets(*first, *second, merge_classes_));
    ctx.log(std::to_string(first->size()) + " + " + std::to_string(second->size()) + " samples, " +
            std::to_string(out->num_classes()) + " classes");
    ctx.metric("samples", Value::integer(out->size()));
    ctx.metric("classes", Value::integer(out->num_classes()));
    ctx.set_output("data", out);
  }

 private:
  bool merge_classes_;
};

}  // namespace

StageInfo concat_stage() {
  StageInfo info;
  info.name = "concat";
  info.doc = "concatenate two datasets of the same sample shape, with equal classes or classes merged by name";
  info.inputs = {
      {"first", "dataset", "the samples that come first; its classes keep their labels"},
      {"second", "dataset", "the samples that follow, of the same sample shape"},
  };
  info.outputs = {{"data", "dataset", "the samples of 'first', then those of 'second'"}};
  info.params = {
      param_bool("merge_classes",
                 "classes become first's, then second's new names, and second is relabelled by name; "
                 "false requires equal class lists",
                 false),
  };
  info.create = [](const Params& p) { return std::make_unique<Concat>(p); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::data
