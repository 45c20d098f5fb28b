// Validation of experiments against stage schemas, with in-process stage types.
#include <catch2/catch.hpp>

#include "config/yaml_reader.hpp"
#include "plan/dot.hpp"
#include "plan/plan.hpp"

using namespace pipeline;

namespace {

class Noop : public Stage {
 public:
  void run(StageContext&) override {}
};

const PluginSet& fake_plugins() {
  static PluginSet set;
  static bool once = [] {
    StageInfo load;
    load.name = "load";
    load.doc = "a loader";
    load.outputs = {{"train", "dataset", "train"}, {"test", "dataset", "test"}};
    load.params = {param_path("file", "input"),
                   param_int("count", "how many", 10).range(1, 100),
                   param_float("ratio", "a fraction", 0.5).range(0, 1),
                   param_enum("mode", "how", {"fast", "slow"}, std::string("fast")),
                   param_list("classes", "labels", ParamType::integer, Value::list()),
                   param_bool("flag", "a switch", false)};
    load.create = [](const Params&) { return std::make_unique<Noop>(); };
    StageInfo stats;
    stats.name = "stats";
    stats.doc = "describe";
    stats.inputs = {{"data", "dataset", "data"}};
    stats.outputs = {{"report", "metrics", "report"}};
    stats.create = load.create;
    StageInfo map;
    map.name = "map";
    map.doc = "dataset to dataset";
    map.inputs = {{"data", "dataset", "data"}, {"extra", "dataset", "extra", true}};
    map.outputs = {{"data", "dataset", "data"}};
    map.create = load.create;
    StageInfo gather;
    gather.name = "gather";
    gather.doc = "many to one";
    PortSpec parts{"part", "dataset", "a part"};
    parts.variadic = true;
    gather.inputs = {parts};
    gather.outputs = {{"data", "dataset", "all"}};
    gather.create = load.create;
    set.add_builtin("fake", {load, stats, map, gather});
    return true;
  }();
  (void)once;
  return set;
}

PlanResult plan(const std::string& text, const std::vector<Override>& overrides = {}) {
  std::vector<Error> syntax;
  Value v = config::parse_yaml(text, "x.yaml", syntax);
  REQUIRE(syntax.empty());
  return build_plan(v, "x.yaml", "/data", fake_plugins(), overrides);
}

std::vector<std::string> messages(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.formatted());
  return out;
}

}  // namespace

TEST_CASE("a valid experiment becomes a topologically ordered plan", "[plan]") {
  auto r = plan(R"(experiment: demo
seed: 3
stages:
  report: {plugin: stats, inputs: {data: mapped}}
  mapped: {plugin: map, inputs: {data: src.train, extra: src.test}}
  src: {plugin: load, params: {file: in.bin, count: 5, ratio: 1}}
)");
  REQUIRE(messages(r).empty());
  const Plan& p = r.plan;
  CHECK(p.experiment == "demo");
  CHECK(p.seed == 3);
  REQUIRE(p.stages.size() == 3);
  CHECK(p.stages[0].id == "src");
  CHECK(p.stages[1].id == "mapped");
  CHECK(p.stages[2].id == "report");
  CHECK(p.stages[0].params.get_path("file") == "/data/in.bin");  // relative to the file
  CHECK(p.stages[0].params.get_int("count") == 5);
  CHECK(p.stages[0].params.get("ratio").kind() == Value::Kind::real);  // int converted
  CHECK(p.stages[0].params.get_string("mode") == "fast");             // default filled
  CHECK(p.stages[1].inputs.size() == 2);
  CHECK(p.stages[1].inputs[1].producer_port == "test");
  CHECK(p.stages[0].seed != p.stages[1].seed);
  CHECK(to_dot(p).find("\"src\" -> \"mapped\" [label=\"train -> data\"]") != std::string::npos);
}

TEST_CASE("every problem is reported at once, in file order", "[plan]") {
  auto r = plan(R"(experiment: demo
stages:
  src: {plugin: load, params: {count: 500, ratoi: 0.1, mode: quick, classes: [1, x]}}
  report: {plugin: stat, inputs: {data: src}}
  other: {plugin: stats, inputs: {dat: src.train}}
  third: {plugin: stats, inputs: {data: sr.train}}
)");
  CHECK(messages(r) == std::vector<std::string>{
      "x.yaml:3:3: error: stage 'src' (load): missing required parameter 'file' (path: input)",
      "x.yaml:3:39: error: stage 'src' (load): parameter 'count' must be in [1, 100], got 500",
      "x.yaml:3:44: error: stage 'src' (load): unknown parameter 'ratoi'; did you mean 'ratio'?",
      "x.yaml:3:62: error: stage 'src' (load): parameter 'mode' must be one of fast, slow; got 'quick'",
      "x.yaml:3:82: error: stage 'src' (load): item 2 of parameter 'classes' must be int, got string \"x\"",
      "x.yaml:4:20: error: stage 'report': unknown plugin 'stat'; did you mean 'stats'?",
      "x.yaml:4:41: error: stage 'report': input 'data': stage 'src' (load) has several outputs (train, test); name one, e.g. 'src.train'",
      "x.yaml:5:3: error: stage 'other' (stats): missing required input 'data' (dataset: data)",
      "x.yaml:5:35: error: stage 'other' (stats): unknown input 'dat'; did you mean 'data'? (inputs: data)",
      "x.yaml:6:41: error: stage 'third' (stats): input 'data' names unknown stage 'sr'; did you mean 'src'?",
  });
}

TEST_CASE("references to outputs are checked", "[plan]") {
  auto r = plan(R"(stages:
  src: {plugin: load, params: {file: a}}
  a: {plugin: stats, inputs: {data: src}}
  b: {plugin: stats, inputs: {data: src.valid}}
  c: {plugin: map, inputs: {data: a.report}}
)");
  CHECK(messages(r) == std::vector<std::string>{
      "x.yaml:3:37: error: stage 'a' (stats): input 'data': stage 'src' (load) has several outputs (train, test); name one, e.g. 'src.train'",
      "x.yaml:4:37: error: stage 'b' (stats): input 'data' names unknown output 'valid' of stage 'src' (load) (outputs: train, test)",
      "x.yaml:5:35: error: stage 'c' (map): input 'data' takes dataset, but 'a.report' is metrics",
  });
}

TEST_CASE("cycles are reported with their stages in order", "[plan]") {
  auto r = plan(R"(stages:
  a: {plugin: map, inputs: {data: c}}
  b: {plugin: map, inputs: {data: a}}
  c: {plugin: map, inputs: {data: b}}
  d: {plugin: map, inputs: {data: d}}
)");
  CHECK(messages(r) == std::vector<std::string>{
      "x.yaml:2:3: error: cycle between stages: a -> b -> c -> a",
      "x.yaml:5:3: error: cycle between stages: d -> d",
  });
}

TEST_CASE("the experiment's shape is checked", "[plan]") {
  CHECK(messages(plan("")) == std::vector<std::string>{
      "x.yaml:1:1: error: empty experiment file; expected keys 'experiment', 'seed' and 'stages'"});
  CHECK(messages(plan("- a\n- b\n")) == std::vector<std::string>{
      "x.yaml:1:1: error: an experiment must be a map with keys 'experiment', 'seed' and 'stages'"});
  CHECK(messages(plan("experiment: x\nseed: -1\nstage: {}\n")) == std::vector<std::string>{
      "x.yaml:1:1: error: missing 'stages': an experiment needs at least one stage",
      "x.yaml:2:7: error: 'seed' must be a non-negative integer, got -1",
      "x.yaml:3:1: error: unknown top-level key 'stage'; did you mean 'stages'? (expected experiment, description, seed, stages, sweep)",
  });
  CHECK(messages(plan("stages:\n  s.1: {plugin: load, params: {file: a}, input: {}}\n")) == std::vector<std::string>{
      "x.yaml:2:3: error: stage 's.1': a stage id must start with a letter or '_' and contain only letters, digits, '_' and '-'",
      "x.yaml:2:42: error: stage 's.1' (load): unknown key 'input'; did you mean 'inputs'? (expected plugin, params, inputs, doc)",
  });
}

TEST_CASE("set overrides are applied before validation", "[plan]") {
  const std::string text = "stages:\n  src: {plugin: load, params: {file: a}}\n";
  auto r = plan(text, {parse_override("src.count=7"), parse_override("src.classes=[1, 2]")});
  REQUIRE(messages(r).empty());
  CHECK(r.plan.stages[0].params.get_int("count") == 7);
  CHECK(r.plan.stages[0].params.get_int_list("classes") == std::vector<std::int64_t>{1, 2});

  auto bad = plan(text, {parse_override("src.count=zero"), parse_override("scr.count=1")});
  CHECK(messages(bad) == std::vector<std::string>{
      "--set scr.count: error: --set names unknown stage 'scr'; did you mean 'src'?",
      "--set src.count: error: stage 'src' (load): parameter 'count' must be int, got string \"zero\"",
  });
  CHECK_THROWS_AS(parse_override("nodot=1"), Error);
  CHECK_THROWS_AS(parse_override("a.b"), Error);
}

TEST_CASE("did you mean suggests only close names", "[plan]") {
  CHECK(did_you_mean("idx_datset", {"idx_dataset", "subset"}) == "idx_dataset");
  CHECK(did_you_mean("banana", {"idx_dataset", "subset"}).empty());
}

namespace {
std::vector<std::string> ids(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& s : r.plan.stages) out.push_back(s.id);
  return out;
}
}  // namespace

TEST_CASE("repeat groups unroll into plain stages with their own ids, inputs and parameters", "[plan][repeat]") {
  const std::string text = R"(stages:
  src: {plugin: load, params: {file: a}}
  step_0: {plugin: map, inputs: {data: src.train}}
  rounds:
    repeat: {round: 1..3}
    step_<round>: {plugin: map, inputs: {data: step_<round-1>}}
    parts:
      repeat: {part: [x, y]}
      look_<round>_<part>: {plugin: load, params: {file: f_<part>, count: <round>, mode: fast}}
  last: {plugin: stats, inputs: {data: step_3}}
)";
  auto r = plan(text);
  REQUIRE(messages(r).empty());
  CHECK(ids(r) == std::vector<std::string>{"src", "step_0", "step_1", "look_1_x", "look_1_y", "step_2", "look_2_x",
                                           "look_2_y", "step_3", "look_3_x", "look_3_y", "last"});
  const auto& step2 = r.plan.stages[5];
  REQUIRE(step2.inputs.size() == 1);
  CHECK(r.plan.stages[step2.inputs[0].producer].id == "step_1");
  // A whole-string placeholder takes the variable's type; inside a string it is text.
  CHECK(r.plan.stages[6].params.get_int("count") == 2);
  CHECK(r.plan.stages[6].params.get_string("file") == "/data/f_x");
  // Each copy is located at the template.
  CHECK(step2.location.line == 6);
  // Distinct ids give distinct keys and seeds.
  CHECK(r.plan.stages[3].key != r.plan.stages[6].key);
}

TEST_CASE("a repeat group in an inputs map gathers every copy's output", "[plan][repeat]") {
  const std::string text = R"(stages:
  src: {plugin: load, params: {file: a}}
  copies:
    repeat: {i: 4}
    copy_<i>: {plugin: map, inputs: {data: src.train}}
  all:
    plugin: gather
    inputs:
      first: src.test
      each: {repeat: {i: 4}, part_<i>: copy_<i>}
)";
  auto r = plan(text);
  REQUIRE(messages(r).empty());
  const auto& all = r.plan.stages.back();
  std::vector<std::string> ports, producers;
  for (const auto& in : all.inputs) {
    ports.push_back(in.port);
    producers.push_back(r.plan.stages[in.producer].id);
  }
  CHECK(ports == std::vector<std::string>{"first", "part_0", "part_1", "part_2", "part_3"});
  CHECK(producers == std::vector<std::string>{"src", "copy_0", "copy_1", "copy_2", "copy_3"});
}

TEST_CASE("overrides set repeat variables and patterns set many stages", "[plan][repeat]") {
  const std::string text = R"(stages:
  src: {plugin: load, params: {file: a}}
  rounds:
    repeat: {round: 1..5}
    local_<round>: {plugin: load, params: {file: a}}
)";
  auto r = plan(text, {parse_override("rounds.round=1..2"), parse_override("local_*.count=9")});
  REQUIRE(messages(r).empty());
  CHECK(ids(r) == std::vector<std::string>{"src", "local_1", "local_2"});
  CHECK(r.plan.stages[0].params.get_int("count") == 10);
  CHECK(r.plan.stages[1].params.get_int("count") == 9);
  CHECK(r.plan.stages[2].params.get_int("count") == 9);
  auto all = plan(text, {parse_override("*.round=[3]")});
  CHECK(ids(all) == std::vector<std::string>{"src", "local_3"});
  auto none = plan(text, {parse_override("remote_*.count=9")});
  CHECK(messages(none) == std::vector<std::string>{"--set remote_*.count: error: --set names unknown stage 'remote_*'"});
}

TEST_CASE("bad repeat groups are located errors, bounded however large they ask to be", "[plan][repeat]") {
  auto r = plan(R"(stages:
  src: {plugin: load, params: {file: a}}
  g:
    repeat: {i: 2}
    s_<j>: {plugin: map, inputs: {data: src.train}}
  arith:
    repeat: {name: [x]}
    u_<name+1>: {plugin: map, inputs: {data: src.train}}
  huge:
    repeat: {a: 150, b: 150}
    t_<a>_<b>: {plugin: map, inputs: {data: src.train}}
)");
  const auto m = messages(r);
  REQUIRE(m.size() >= 3);
  CHECK(m[0] == "x.yaml:5:5: error: unknown repeat variable '<j>' in 's_<j>' (set here: i)");
  bool bounded = false, arithmetic = false;
  for (const auto& line : m) {
    bounded = bounded || line.find("the repeat groups expand to more than 20000 stages") != std::string::npos;
    arithmetic = arithmetic || line.find("'<name+1>': arithmetic needs an integer variable, 'name' is x") != std::string::npos;
  }
  CHECK(bounded);
  CHECK(arithmetic);
}
