// idx_dataset: reads an IDX image file and label file (e.g. Fashion-MNIST), keeps and relabels
// classes, samples K per class, and splits off a seeded, stratified test set.
#include <memory>

#include "idx_reader.hpp"
#include "pipeline/sdk.hpp"
#include "sampling.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

class IdxDataset : public Stage {
 public:
  explicit IdxDataset(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    const auto images_path = params_.get_path("images");
    const auto labels_path = params_.get_path("labels");
    IdxArray images = read_idx(images_path, 3, "image");
    ctx.throw_if_stopped();
    IdxArray labels = read_idx(labels_path, 1, "label");
    if (images.dims[0] != labels.dims[0])
      throw_data_format(labels_path.string(), std::to_string(labels.dims[0]) + " labels for " +
                                                  std::to_string(images.dims[0]) + " images in " +
                                                  images_path.string());
    if (images.dims[0] == 0) throw_data_format(images_path.string(), "holds no images");

    std::vector<std::int32_t> raw_labels(labels.bytes.begin(), labels.bytes.end());
    const std::string source = labels_path.string();
    Selection train, test;
    select_and_split(raw_labels, params_, ctx.seed(), source, train, test);

    const std::int64_t rows = images.dims[1], cols = images.dims[2];
    auto make = [&](const Selection& s) {
      const std::int64_t n = static_cast<std::int64_t>(s.indices.size()), px = rows * cols;
      std::vector<float> pixels(static_cast<std::size_t>(n * px));
      for (std::int64_t k = 0; k < n; ++k) {
        const std::uint8_t* src = images.bytes.data() + s.indices[k] * px;
        float* dst = pixels.data() + k * px;
        for (std::int64_t j = 0; j < px; ++j) dst[j] = static_cast<float>(src[j]) / 255.0f;
      }
      return std::make_shared<Dataset>(Tensor({n, 1, rows, cols}, std::move(pixels)), s.labels,
                                       s.class_names);
    };
    auto train_set = make(train);
    auto test_set = make(test);
    ctx.log("read " + std::to_string(images.dims[0]) + " images of " + std::to_string(rows) + "x" +
            std::to_string(cols) + "; train " + std::to_string(train_set->size()) + ", test " +
            std::to_string(test_set->size()) + ", " + std::to_string(train_set->num_classes()) +
            " classes");
    ctx.metric("source_samples", Value::integer(images.dims[0]));
    ctx.metric("train_samples", Value::integer(train_set->size()));
    ctx.metric("test_samples", Value::integer(test_set->size()));
    ctx.set_output("train", train_set);
    ctx.set_output("test", test_set);
  }

 private:
  Params params_;
};

}  // namespace

void check_unique_classes(const Params& params, Diagnostics& diagnostics) {
  const auto& items = params.get("classes").items();
  for (std::size_t i = 0; i < items.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (items[i] == items[j])
        diagnostics.error(items[i].location(), "parameter 'classes' lists class " + items[i].str() +
                                                   " twice (items " + std::to_string(j + 1) + " and " +
                                                   std::to_string(i + 1) + ")");
}

StageInfo idx_dataset_stage() {
  StageInfo info;
  info.name = "idx_dataset";
  info.doc = "read IDX image and label files (raw or gzipped), e.g. Fashion-MNIST; pixels scaled to [0, 1]";
  info.outputs = {
      {"train", "dataset", "the samples not held out for testing"},
      {"test", "dataset", "the held-out samples (test_fraction of each class)"},
  };
  info.params = {
      param_path("images", "IDX image file (unsigned bytes, N x rows x cols), raw or gzipped").existing(),
      param_path("labels", "IDX label file (unsigned bytes, N), raw or gzipped").existing(),
  };
  for (auto& spec : sampling_params(255)) info.params.push_back(spec);
  info.create = [](const Params& p) { return std::make_unique<IdxDataset>(p); };
  info.uses_seed = [](const Params& p) { return p.get_int("per_class") > 0 || p.get_float("test_fraction") > 0; };
  info.check = check_unique_classes;
  return info;
}

}  // namespace pipeline::data
