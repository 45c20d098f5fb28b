// active_split: the start of pool-based active learning: a few labelled samples of each class,
// chosen with the stage's seed, and the rest as the unlabelled pool (its labels stay hidden from
// the strategies; active_select reveals them for the samples it picks, as an oracle would).
#include <algorithm>
#include <memory>

#include "active_stages.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::active {
namespace {

class ActiveSplit : public Stage {
 public:
  explicit ActiveSplit(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto in = ctx.input_as<Dataset>("data");
    const std::int64_t per_class = params_.get_int("per_class");
    Rng rng(ctx.seed());
    std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(in->num_classes()));
    for (std::size_t i = 0; i < in->labels().size(); ++i)
      groups[static_cast<std::size_t>(in->labels()[i])].push_back(static_cast<std::int64_t>(i));
    std::vector<std::int64_t> labelled, pool;
    for (std::size_t c = 0; c < groups.size(); ++c) {
      auto& group = groups[c];
      if (static_cast<std::int64_t>(group.size()) < per_class)
        throw Error(ErrorCode::data_format, "input of stage '" + ctx.stage_id() + "': class " + in->class_names()[c] +
                                                " has " + std::to_string(group.size()) + " samples, fewer than per_class = " +
                                                std::to_string(per_class));
      rng.shuffle(group);
      labelled.insert(labelled.end(), group.begin(), group.begin() + per_class);
      pool.insert(pool.end(), group.begin() + per_class, group.end());
    }
    const std::int64_t cap = params_.get_int("pool");
    if (cap > 0 && static_cast<std::int64_t>(pool.size()) > cap) {
      rng.shuffle(pool);
      pool.resize(static_cast<std::size_t>(cap));
    }
    std::sort(labelled.begin(), labelled.end());
    std::sort(pool.begin(), pool.end());
    if (pool.empty())
      throw Error(ErrorCode::data_format, "input of stage '" + ctx.stage_id() + "': no samples are left for the pool");
    ctx.log(std::to_string(labelled.size()) + " labelled (" + std::to_string(per_class) + " per class), " +
            std::to_string(pool.size()) + " in the pool");
    ctx.metric("labelled", Value::integer(static_cast<std::int64_t>(labelled.size())));
    ctx.metric("pool", Value::integer(static_cast<std::int64_t>(pool.size())));
    ctx.set_output("labelled", std::make_shared<Dataset>(in->subset(labelled)));
    ctx.set_output("pool", std::make_shared<Dataset>(in->subset(pool)));
  }

 private:
  Params params_;
};

}  // namespace

StageInfo active_split_stage() {
  StageInfo info;
  info.name = "active_split";
  info.doc = "start active learning: per_class labelled samples of each class, the rest as the unlabelled pool";
  info.inputs = {{"data", "dataset", "the samples to learn from"}};
  info.outputs = {{"labelled", "dataset", "per_class samples of each class, in their original order"},
                  {"pool", "dataset", "the other samples (at most `pool`, chosen at random), in their original order"}};
  info.params = {
      param_int("per_class", "labelled samples of each class to start with", 10).range(0, 1 << 30),
      param_int("pool", "at most this many samples in the pool, chosen with the stage's seed; 0: all the rest", 0)
          .range(0, 1e12),
  };
  info.create = [](const Params& p) { return std::make_unique<ActiveSplit>(p); };
  info.examples = {parse_value("{per_class: 1}")};
  return info;
}

}  // namespace pipeline::active
