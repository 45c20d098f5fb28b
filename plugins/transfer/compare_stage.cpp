// compare: a table of the arms of an experiment (accuracy, macro-F1, training time), one row per
// connected evaluation, under the input's name.
#include <cstdio>

#include "pipeline/sdk.hpp"
#include "transfer_stages.hpp"

namespace pipeline::transfer {
namespace {

class Compare : public Stage {
 public:
  void run(StageContext& ctx) override {
    char line[160];
    std::snprintf(line, sizeof line, "%-22s %9s %9s %12s", "arm", "accuracy", "macro-F1", "train time");
    std::string table = line;
    Value arms = Value::map();
    Value times = Value::map();
    for (const auto& name : ctx.input_names()) {
      const Value& v = ctx.input_as<Metrics>(name)->values();
      const Value* acc = v.find("accuracy");
      const Value* f1 = v.find("macro_f1");
      if (!acc || !f1)
        throw Error(ErrorCode::data_format, "input '" + name + "' has no accuracy and macro_f1 (connect an evaluate stage)");
      const Value* model = v.find("model");
      const Value* seconds = model ? model->find("train_seconds") : nullptr;
      if (seconds)
        std::snprintf(line, sizeof line, "\n%-22s %9.4f %9.4f %11.2fs", name.c_str(), acc->as_float(), f1->as_float(),
                      seconds->as_float());
      else
        std::snprintf(line, sizeof line, "\n%-22s %9.4f %9.4f %12s", name.c_str(), acc->as_float(), f1->as_float(), "-");
      table += line;
      Value row = Value::map();
      row.set("accuracy", *acc);
      row.set("macro_f1", *f1);
      arms.set(name, row);
      if (seconds) times.set(name, *seconds);
    }
    ctx.result(table);
    for (const auto& [name, row] : arms.entries()) ctx.metric(name, row);
    ctx.timing("train_seconds", times);
    ctx.set_output("table", std::make_shared<Metrics>(arms));
  }
};

}  // namespace

StageInfo compare_stage() {
  StageInfo info;
  info.name = "compare";
  info.doc = "tabulate accuracy, macro-F1 and training time of several evaluations, one row per input";
  PortSpec arms{"arm", "metrics", "an evaluate stage's scores; the input's name labels the row"};
  arms.variadic = true;
  info.inputs = {arms};
  info.outputs = {{"table", "metrics", "accuracy and macro-F1 per arm"}};
  info.create = [](const Params&) { return std::make_unique<Compare>(); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::transfer
