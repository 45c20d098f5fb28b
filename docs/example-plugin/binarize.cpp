// The example plugin's stage type, `binarize`: turns every pixel of a dataset into 0 or 1 by a
// threshold.
#include <memory>

#include <pipeline/sdk.hpp>

namespace example {
namespace {

class Binarize : public pipeline::Stage {
 public:
  // Parameters arrive checked: present, of the declared type, in range.
  explicit Binarize(const pipeline::Params& params) : threshold_(params.get_float("threshold")) {}

  void run(pipeline::StageContext& ctx) override {
    auto in = ctx.input_as<pipeline::Dataset>("data");
    pipeline::Tensor pixels = in->features();  // a copy we may change
    std::int64_t ones = 0;
    for (float& x : pixels.values()) {
      x = x > threshold_ ? 1.0f : 0.0f;
      ones += x > 0;
    }
    ctx.metric("fraction_on", pipeline::Value::real(static_cast<double>(ones) / pixels.numel()));
    ctx.log("binarized " + std::to_string(in->size()) + " samples at " + std::to_string(threshold_));
    ctx.set_output("data", std::make_shared<pipeline::Dataset>(std::move(pixels), in->labels(), in->class_names()));
  }

 private:
  double threshold_;
};

}  // namespace

pipeline::StageInfo binarize_stage() {
  pipeline::StageInfo info;
  info.name = "binarize";
  info.doc = "set each pixel to 1 above a threshold and to 0 otherwise";
  info.inputs = {{"data", "dataset", "the dataset to binarize"}};
  info.outputs = {{"data", "dataset", "the same samples with pixels in {0, 1}"}};
  info.params = {pipeline::param_float("threshold", "pixels above this become 1", 0.5).range(0, 1)};
  info.create = [](const pipeline::Params& p) { return std::make_unique<Binarize>(p); };
  // Nothing random: trials that differ only in their seed share one instance.
  info.uses_seed = [](const pipeline::Params&) { return false; };
  return info;
}

}  // namespace example
