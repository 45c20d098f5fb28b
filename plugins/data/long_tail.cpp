// long_tail: makes a dataset long-tailed (class 0 the most frequent, each later class fewer by a
// constant factor), the usual set-up for studying class imbalance; samples chosen with the seed.
#include <memory>

#include "pipeline/sdk.hpp"
#include "stages.hpp"
#include "transforms.hpp"

namespace pipeline::data {
namespace {

class LongTail : public Stage {
 public:
  explicit LongTail(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto in = ctx.input_as<Dataset>("data");
    const std::string source = "input of stage '" + ctx.stage_id() + "'";
    const auto counts = long_tail_counts(in->class_counts(), params_.get_float("ratio"),
                                         params_.get_int("max_per_class"), source);
    Rng rng(ctx.seed());
    auto out = std::make_shared<Dataset>(take_class_counts(*in, counts, rng, source));

    std::string line = "kept " + std::to_string(out->size()) + " of " + std::to_string(in->size()) +
                       " samples; per class:";
    Value per_class = Value::list();
    for (std::size_t c = 0; c < counts.size(); ++c) {
      line += (c ? ", " : " ") + std::to_string(counts[c]);
      per_class.push_back(Value::integer(counts[c]));
    }
    ctx.log(line);
    ctx.metric("samples", Value::integer(out->size()));
    ctx.metric("per_class", per_class);
    ctx.set_output("data", out);
  }

 private:
  Params params_;
};

}  // namespace

StageInfo long_tail_stage() {
  StageInfo info;
  info.name = "long_tail";
  info.doc = "make a dataset long-tailed: class c of C keeps n_0 * ratio^(-c/(C-1)) samples, chosen with the stage's seed";
  info.inputs = {{"data", "dataset", "the dataset to take samples from; every class needs samples"}};
  info.outputs = {{"data", "dataset", "the kept samples, same classes and labels, in their original order"}};
  info.params = {
      param_float("ratio", "samples of the first class over samples of the last; 1 keeps the classes balanced")
          .range(1, std::nullopt),
      param_int("max_per_class", "cap on n_0, the samples kept of class 0 (else the smallest class count); 0: no cap", 0)
          .range(0, std::nullopt),
  };
  info.create = [](const Params& p) { return std::make_unique<LongTail>(p); };
  info.examples = {parse_value("{ratio: 4}")};
  return info;
}

}  // namespace pipeline::data
