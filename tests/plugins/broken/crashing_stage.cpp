// A plugin whose stage dies in run(): of SIGSEGV as a wild pointer would, or of a stack overflow
// as unbounded recursion would. The crash handler must name the stage and plugin either way.
#include <csignal>

#include "pipeline/plugin.hpp"
#include "pipeline/stage.hpp"

namespace {
using namespace pipeline;

// Recursion the optimiser cannot turn into a loop: each frame's buffer is used after the call.
[[gnu::noinline]] int recurse(volatile int depth) {
  if (depth < 0) return 0;  // never: keeps the compiler from calling the recursion infinite
  volatile char frame[512];
  frame[depth % 512] = static_cast<char>(depth);
  return recurse(depth + 1) + frame[(depth * 7) % 512];
}

class Crash : public Stage {
 public:
  explicit Crash(const Params& p) : overflow_(p.get_bool("overflow")) {}
  void run(StageContext&) override {
    if (overflow_) recurse(0);
    std::raise(SIGSEGV);
  }

 private:
  bool overflow_;
};

void register_crashing(Registry& r) {
  StageInfo crash;
  crash.name = "crash";
  crash.doc = "die of SIGSEGV";
  crash.inputs = {{"after", "any", "run after this stage", true}};
  crash.outputs = {{"out", "metrics", "never produced"}};
  crash.params = {param_bool("overflow", "overflow the stack instead of raising SIGSEGV", false)};
  crash.create = [](const Params& p) { return std::make_unique<Crash>(p); };
  r.add_stage(crash);
}
}  // namespace

PIPELINE_PLUGIN("crashing", "1.0", register_crashing)
