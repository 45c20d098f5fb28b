// save_image_folder: writes a dataset of [1 or 3, H, W] samples in [0, 1] as a folder of PNGs, one
// subfolder per class named after the class, the layout image_folder and torchvision's ImageFolder
// read: to look at a dataset, or to hand one to another tool.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "image_decoder.hpp"
#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

// A class name as a folder name: path separators and leading dots replaced.
std::string folder_name(std::string name, std::size_t index) {
  for (char& c : name)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  if (name.empty() || name[0] == '.') name = "class" + std::to_string(index) + "_" + name;
  return name;
}

class SaveImageFolder : public Stage {
 public:
  explicit SaveImageFolder(const Params& p) : path_(p.get_path("path")) {}
  void run(StageContext& ctx) override {
    auto data = ctx.input_as<Dataset>("data");
    const Shape shape = data->sample_shape();
    if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3))
      throw Error(ErrorCode::data_format, "save_image_folder needs samples of [1 or 3, height, width], got " + to_string(shape));
    const std::int64_t c = shape[0], h = shape[1], w = shape[2];
    std::vector<std::string> names;
    for (std::size_t k = 0; k < data->class_names().size(); ++k) names.push_back(folder_name(data->class_names()[k], k));
    // Zero-padded names keep the class order when the folder is read back sorted.
    for (std::size_t k = 0; k < names.size(); ++k) {
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "%03zu_", k);
      names[k] = prefix + names[k];
      std::filesystem::create_directories(path_ / names[k]);
    }
    std::vector<std::int64_t> counts(names.size(), 0);
    for (std::int64_t i = 0; i < data->size(); ++i) {
      ctx.throw_if_stopped();
      const auto label = static_cast<std::size_t>(data->labels()[static_cast<std::size_t>(i)]);
      Image image;
      image.width = w;
      image.height = h;
      image.channels = c;
      image.pixels.resize(static_cast<std::size_t>(c * h * w));
      const float* x = data->sample(i);
      for (std::int64_t ch = 0; ch < c; ++ch)
        for (std::int64_t p = 0; p < h * w; ++p) {
          const float v = std::clamp(x[ch * h * w + p], 0.0f, 1.0f);
          image.pixels[static_cast<std::size_t>(p * c + ch)] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
        }
      char file[32];
      std::snprintf(file, sizeof file, "%06lld.png", static_cast<long long>(counts[label]++));
      write_png(path_ / names[label] / file, image);
    }
    ctx.log("wrote " + std::to_string(data->size()) + " PNGs in " + std::to_string(names.size()) + " class folders under " +
            path_.string());
    ctx.metric("images", Value::integer(data->size()));
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

StageInfo save_image_folder_stage() {
  StageInfo info;
  info.name = "save_image_folder";
  info.doc = "write a dataset of [1 or 3, H, W] samples in [0, 1] as PNGs, one folder per class (image_folder's layout)";
  info.inputs = {{"data", "dataset", "the samples to write"}};
  info.params = {param_path("path", "the folder to write (created; existing files of the same names are replaced)")};
  info.cacheable = false;  // run for the files it writes
  info.uses_seed = [](const Params&) { return false; };
  info.create = [](const Params& p) { return std::make_unique<SaveImageFolder>(p); };
  return info;
}

}  // namespace pipeline::data
