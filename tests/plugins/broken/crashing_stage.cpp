// A plugin whose stage dies of SIGSEGV in run(): the crash handler must name the stage and plugin.
#include <csignal>

#include "pipeline/plugin.hpp"
#include "pipeline/stage.hpp"

namespace {
using namespace pipeline;

class Crash : public Stage {
 public:
  void run(StageContext&) override { std::raise(SIGSEGV); }  // as a wild pointer would
};

void register_crashing(Registry& r) {
  StageInfo crash;
  crash.name = "crash";
  crash.doc = "die of SIGSEGV";
  crash.inputs = {{"after", "any", "run after this stage", true}};
  crash.outputs = {{"out", "metrics", "never produced"}};
  crash.create = [](const Params&) { return std::make_unique<Crash>(); };
  r.add_stage(crash);
}
}  // namespace

PIPELINE_PLUGIN("crashing", "1.0", register_crashing)
