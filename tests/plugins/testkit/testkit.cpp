// Stage types for testing the scheduler and the CLI: they prove concurrency with barriers (not
// sleeps), fail on demand, measure overlap of compute stages, and wait for a stop request.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "pipeline/sdk.hpp"

using namespace pipeline;

namespace {

class Token : public Artifact {
 public:
  std::string type() const override { return "token"; }
};

// A rendezvous of `parties` stages of one group: each waits until all have arrived, and fails if
// that takes longer than timeout_ms, which happens exactly when they are not run concurrently.
class Barrier : public Stage {
 public:
  explicit Barrier(const Params& p)
      : group_(p.get_string("group")), parties_(p.get_int("parties")), timeout_ms_(p.get_int("timeout_ms")) {}
  void run(StageContext& ctx) override {
    static std::mutex mutex;
    static std::condition_variable arrived;
    static std::map<std::string, std::int64_t> counts;
    std::unique_lock lock(mutex);
    ++counts[group_];
    arrived.notify_all();
    const bool all = arrived.wait_for(lock, std::chrono::milliseconds(timeout_ms_),
                                      [&] { return counts[group_] >= parties_; });
    if (!all)
      throw Error(ErrorCode::stage_failed, "barrier '" + group_ + "': only " + std::to_string(counts[group_]) +
                                               " of " + std::to_string(parties_) + " stages arrived");
    ctx.metric("passed", Value::boolean(true));
    ctx.set_output("out", std::make_shared<Token>());
  }

 private:
  std::string group_;
  std::int64_t parties_, timeout_ms_;
};

class Emit : public Stage {
 public:
  void run(StageContext& ctx) override {
    ctx.metric("ran", Value::boolean(true));
    ctx.metric("seed", Value::string(std::to_string(ctx.seed())));
    ctx.set_output("out", std::make_shared<Token>());
  }
};

class Fail : public Stage {
 public:
  explicit Fail(const Params& p) : message_(p.get_string("message")) {}
  void run(StageContext&) override { throw Error(ErrorCode::data_format, message_); }

 private:
  std::string message_;
};

// Compute stages must not overlap: each records the largest number of them it saw running at once.
class Exclusive : public Stage {
 public:
  void run(StageContext& ctx) override {
    static std::atomic<int> running{0};
    static std::atomic<int> widest{0};
    const int now = ++running;
    int seen = widest.load();
    while (now > seen && !widest.compare_exchange_weak(seen, now)) {
    }
    // Long enough that overlapping stages would be caught running together.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ctx.metric("max_overlap", Value::integer(widest.load()));
    --running;
    ctx.set_output("out", std::make_shared<Token>());
  }
};

// Writes `path` atomically, slowly, until a stop is requested; touches `started` first so a test
// knows when to interrupt.
class WaitForStop : public Stage {
 public:
  explicit WaitForStop(const Params& p) : path_(p.get_path("path")), started_(p.get_path("started")) {}
  void run(StageContext& ctx) override {
    write_file_atomic(path_, [&](std::ostream& out) {
      std::ofstream(started_) << "started\n";
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < deadline) {
        out << "partial line\n" << std::flush;
        ctx.progress("waiting for a stop request");
        ctx.throw_if_stopped();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      throw Error(ErrorCode::stage_failed, "no stop request within 60 s");
    });
  }

 private:
  std::filesystem::path path_, started_;
};

// Looks up a layer type at run time without declaring it (StageInfo::extensions): the runner must
// not cache its result, since its key cannot follow the layer plugin.
class LookupLayer : public Stage {
 public:
  void run(StageContext& ctx) override {
    const LayerInfo* relu = find_layer_type("relu");
    ctx.metric("found", Value::boolean(relu != nullptr));
    ctx.set_output("out", std::make_shared<Metrics>(Value::map()));
  }
};

// A plugin's own artifact type with a codec: stages that output it are cached like any other.
class Tally : public Artifact {
 public:
  explicit Tally(std::int64_t count) : count(count) {}
  std::string type() const override { return "tally"; }
  std::int64_t count;
};

class MakeTally : public Stage {
 public:
  explicit MakeTally(const Params& p) : count_(p.get_int("count")) {}
  void run(StageContext& ctx) override {
    ctx.log("counting to " + std::to_string(count_));
    ctx.set_output("out", std::make_shared<Tally>(count_));
  }

 private:
  std::int64_t count_;
};

class ReadTally : public Stage {
 public:
  void run(StageContext& ctx) override {
    ctx.metric("count", Value::integer(ctx.input_as<Tally>("tally")->count));
    ctx.set_output("out", std::make_shared<Metrics>(Value::map()));
  }
};

CodecInfo tally_codec() {
  CodecInfo codec;
  codec.type = "tally";
  codec.doc = "the count as decimal text";
  codec.encode = [](const Artifact& a, const std::filesystem::path& dir) {
    write_file_atomic(dir / "count.txt", [&](std::ostream& out) { out << dynamic_cast<const Tally&>(a).count; });
    return std::vector<std::string>{"count.txt"};
  };
  codec.decode = [](const std::filesystem::path& dir) -> ArtifactPtr {
    std::ifstream in(dir / "count.txt");
    std::int64_t count = 0;
    if (!(in >> count)) throw Error(ErrorCode::data_format, "count.txt: not a number");
    return std::make_shared<Tally>(count);
  };
  return codec;
}

void register_testkit(Registry& r) {
  r.add_codec(tally_codec());
  StageInfo make_tally;
  make_tally.name = "make_tally";
  make_tally.doc = "output a tally (an artifact type of this plugin, with a codec)";
  make_tally.outputs = {{"out", "tally", "the tally"}};
  make_tally.params = {param_int("count", "the count", 3)};
  make_tally.create = [](const Params& p) { return std::make_unique<MakeTally>(p); };
  r.add_stage(make_tally);
  StageInfo read_tally;
  read_tally.name = "read_tally";
  read_tally.doc = "record a tally's count as a metric";
  read_tally.inputs = {{"tally", "tally", "the tally"}};
  read_tally.outputs = {{"out", "metrics", "empty metrics"}};
  read_tally.create = [](const Params&) { return std::make_unique<ReadTally>(); };
  r.add_stage(read_tally);

  StageInfo lookup;
  lookup.name = "lookup_layer";
  lookup.doc = "look up the relu layer type without declaring it";
  lookup.outputs = {{"out", "metrics", "empty metrics"}};
  lookup.create = [](const Params&) { return std::make_unique<LookupLayer>(); };
  r.add_stage(lookup);

  StageInfo barrier;
  barrier.name = "barrier";
  barrier.doc = "wait until `parties` stages of `group` are running at once";
  barrier.inputs = {{"after", "token", "run after this stage", true}};
  barrier.outputs = {{"out", "token", "a token"}};
  barrier.params = {param_string("group", "rendezvous name", std::string("default")),
                    param_int("parties", "stages that must meet", 2).range(1, 64),
                    param_int("timeout_ms", "give up after this long", 20000).range(1, 600000)};
  barrier.create = [](const Params& p) { return std::make_unique<Barrier>(p); };
  r.add_stage(barrier);

  StageInfo emit;
  emit.name = "emit";
  emit.doc = "produce a token";
  emit.inputs = {{"after", "any", "run after this stage", true}};
  emit.outputs = {{"out", "token", "a token"}};
  emit.create = [](const Params&) { return std::make_unique<Emit>(); };
  r.add_stage(emit);

  StageInfo fail;
  fail.name = "fail";
  fail.doc = "fail with a message";
  fail.inputs = {{"after", "any", "run after this stage", true}};
  fail.outputs = {{"out", "token", "never produced"}};
  fail.params = {param_string("message", "the error message", std::string("deliberate failure"))};
  fail.create = [](const Params& p) { return std::make_unique<Fail>(p); };
  r.add_stage(fail);

  StageInfo exclusive;
  exclusive.name = "exclusive";
  exclusive.doc = "a compute stage that records how many compute stages overlapped";
  exclusive.compute = true;
  exclusive.outputs = {{"out", "token", "a token"}};
  exclusive.create = [](const Params&) { return std::make_unique<Exclusive>(); };
  r.add_stage(exclusive);

  StageInfo wait;
  wait.name = "wait_for_stop";
  wait.doc = "write a file slowly until the run is interrupted";
  wait.outputs = {{"out", "token", "never produced: the stage ends by interruption"}};
  wait.params = {param_path("path", "the file written atomically"),
                 param_path("started", "touched when the stage starts")};
  wait.create = [](const Params& p) { return std::make_unique<WaitForStop>(p); };
  r.add_stage(wait);
}

}  // namespace

PIPELINE_PLUGIN("testkit", PIPELINE_VERSION_STRING, register_testkit)
