// One of two plugins that register the same stage type.
#include <memory>

#include "pipeline/sdk.hpp"

namespace {
class Nothing : public pipeline::Stage {
 public:
  void run(pipeline::StageContext&) override {}
};
void register_dup(pipeline::Registry& r) {
  pipeline::StageInfo info;
  info.name = "dup_stage";
  info.doc = "registered twice";
  info.create = [](const pipeline::Params&) { return std::make_unique<Nothing>(); };
  r.add_stage(info);
}
}  // namespace

PIPELINE_PLUGIN("dup_a", "1.0", register_dup)
