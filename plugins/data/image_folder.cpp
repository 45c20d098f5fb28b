// image_folder: a folder with one subfolder of PNG or JPEG images per class, as torchvision's
// ImageFolder reads it (classes sorted by folder name, files by name within a class), decoded in
// parallel into one dataset: optional resize of the shorter side and centre crop, pixels / 255,
// then per-channel normalisation; classes, per_class and test_fraction as idx_dataset.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "image_decoder.hpp"
#include "image_resize.hpp"
#include "pipeline/sdk.hpp"
#include "sampling.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

namespace fs = std::filesystem;

struct Listing {
  std::vector<std::string> classes;  // folder names, sorted
  std::vector<fs::path> files;       // by class, then name
  std::vector<std::int32_t> labels;  // parallel to files
};

// Class folders and their image files; dot files are skipped (.DS_Store), any other file that is
// not an image is an error unless skipped.
Listing list_folder(const fs::path& root, bool skip_bad, std::vector<std::string>& skipped) {
  Listing out;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec) && e.path().filename().string()[0] != '.') dirs.push_back(e.path());
  if (ec) throw Error(ErrorCode::io, "cannot list " + root.string() + ": " + ec.message());
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) throw_data_format(root.string(), "has no class folders (expected one subfolder of images per class)");
  for (const auto& dir : dirs) {
    std::vector<fs::path> files;
    // Explicit increments: a folder that cannot be read is an error naming it, not an exception
    // thrown from a range-for's ++.
    fs::recursive_directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const fs::directory_entry& e = *it;
      const std::string name = e.path().filename().string();
      std::error_code file_ec;
      if (!e.is_regular_file(file_ec) || name[0] == '.') continue;
      if (!has_image_extension(e.path())) {
        if (!skip_bad) throw_data_format(e.path().string(), "not an image (PNG or JPEG by its extension); remove it or set on_error: skip");
        skipped.push_back(e.path().string());
        continue;
      }
      files.push_back(e.path());
    }
    if (ec) throw Error(ErrorCode::io, "cannot list " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw_data_format(dir.string(), "class folder '" + dir.filename().string() + "' holds no images");
    const auto label = static_cast<std::int32_t>(out.classes.size());
    out.classes.push_back(dir.filename().string());
    for (auto& f : files) {
      out.files.push_back(std::move(f));
      out.labels.push_back(label);
    }
  }
  return out;
}

struct Preparation {
  int channels = 3;
  std::int64_t resize = 0;
  std::vector<std::int64_t> crop;
  std::vector<double> mean, std;
};

// One image as the dataset holds it: resized, cropped, scaled to [0, 1] and normalised.
Planes prepare(const fs::path& file, const Preparation& p) {
  const Image image = decode_image(file, p.channels);
  Planes planes;
  planes.channels = image.channels;
  planes.height = image.height;
  planes.width = image.width;
  planes.values.resize(image.pixels.size());
  const std::int64_t area = image.height * image.width;
  for (std::int64_t c = 0; c < image.channels; ++c)
    for (std::int64_t i = 0; i < area; ++i)
      planes.values[static_cast<std::size_t>(c * area + i)] = static_cast<float>(image.pixels[static_cast<std::size_t>(i * image.channels + c)]);
  if (p.resize > 0) planes = resize_shorter_side(planes, p.resize);
  if (!p.crop.empty()) {
    if (p.crop[0] > planes.height || p.crop[1] > planes.width)
      throw_data_format(file.string(), "crop " + std::to_string(p.crop[0]) + "x" + std::to_string(p.crop[1]) +
                                           " is larger than the image (" + std::to_string(planes.height) + "x" +
                                           std::to_string(planes.width) + (p.resize ? " after resizing)" : ")"));
    planes = center_crop(planes, p.crop[0], p.crop[1]);
  }
  const std::int64_t plane = planes.height * planes.width;
  for (std::int64_t c = 0; c < planes.channels; ++c) {
    const float mean = p.mean.empty() ? 0.0f : static_cast<float>(p.mean[static_cast<std::size_t>(c)]);
    const float stdev = p.std.empty() ? 1.0f : static_cast<float>(p.std[static_cast<std::size_t>(c)]);
    for (std::int64_t i = 0; i < plane; ++i) {
      float& v = planes.values[static_cast<std::size_t>(c * plane + i)];
      v = (v / 255.0f - mean) / stdev;  // ToTensor, then Normalize
    }
  }
  return planes;
}

// Decodes the selected files in parallel, each worker one image at a time, straight into the
// dataset: memory is the dataset plus one decoded image per worker.
struct Decoded {
  std::vector<float> pixels;
  Shape sample;
  std::vector<char> ok;  // per file: 0 when skipped (not vector<bool>: workers write it in parallel)
  std::vector<std::string> errors;
};

Decoded decode_all(const std::vector<fs::path>& files, const Preparation& p, bool skip_bad, StageContext& ctx) {
  Decoded d;
  d.ok.assign(files.size(), 0);
  // The first image fixes the sample shape; without resize and crop every image must match it.
  std::size_t first = 0;
  Planes head;
  for (; first < files.size(); ++first) {
    try {
      head = prepare(files[first], p);
      break;
    } catch (const Error& e) {
      if (!skip_bad) throw;
      d.errors.push_back(e.message());
    }
  }
  if (first == files.size()) throw Error(ErrorCode::data_format, "no image could be read (" + std::to_string(d.errors.size()) + " skipped)");
  d.sample = {head.channels, head.height, head.width};
  const auto per = static_cast<std::size_t>(numel(d.sample));
  d.pixels.resize(per * files.size());
  std::copy(head.values.begin(), head.values.end(), d.pixels.begin() + static_cast<std::ptrdiff_t>(first * per));
  d.ok[first] = 1;

  std::atomic<std::size_t> next{first + 1};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string first_error;
  std::size_t first_error_index = files.size();
  std::exception_ptr unexpected;
  auto work = [&] {
    for (std::size_t i; (i = next++) < files.size() && !failed && !ctx.stop_requested();) {
      try {
        Planes planes = prepare(files[i], p);
        if (planes.channels != head.channels || planes.height != head.height || planes.width != head.width)
          throw_data_format(files[i].string(), "image is " + std::to_string(planes.width) + "x" + std::to_string(planes.height) +
                                                   ", the first (" + files[first].filename().string() + ") " +
                                                   std::to_string(head.width) + "x" + std::to_string(head.height) +
                                                   "; give resize and/or crop to make them one size");
        std::copy(planes.values.begin(), planes.values.end(), d.pixels.begin() + static_cast<std::ptrdiff_t>(i * per));
        d.ok[i] = 1;
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        if (skip_bad) {
          d.errors.push_back(e.message());
          continue;
        }
        // The first failing file in file order, whatever the workers' timing: a stable message.
        if (i < first_error_index) {
          first_error_index = i;
          first_error = e.message();
        }
        failed = true;
      } catch (...) {
        // Out of memory or a bug: stop everyone and rethrow on the stage's thread.
        std::lock_guard lock(mutex);
        if (!unexpected) unexpected = std::current_exception();
        failed = true;
      }
    }
  };
  const unsigned workers = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16));
  {
    // Joined on every path out of this scope, a failed thread start included.
    struct Joiner {
      std::vector<std::thread> threads;
      ~Joiner() {
        for (auto& t : threads)
          if (t.joinable()) t.join();
      }
    } pool;
    try {
      for (unsigned w = 1; w < workers; ++w) pool.threads.emplace_back(work);
    } catch (...) {
      // Fewer threads than asked for: the ones started and this one finish the work.
    }
    work();
  }
  if (unexpected) std::rethrow_exception(unexpected);
  ctx.throw_if_stopped();
  if (failed) throw Error(ErrorCode::data_format, first_error);
  std::sort(d.errors.begin(), d.errors.end());  // a stable log, whatever the timing
  return d;
}

class ImageFolder : public Stage {
 public:
  explicit ImageFolder(const Params& p) : params_(p) {
    prep_.channels = static_cast<int>(p.get_int("channels"));
    prep_.resize = p.get_int("resize");
    prep_.crop = p.get_int_list("crop");
    if (prep_.crop.size() == 1) prep_.crop.push_back(prep_.crop[0]);
    prep_.mean = p.get_float_list("mean");
    prep_.std = p.get_float_list("std");
  }

  void run(StageContext& ctx) override {
    const fs::path root = params_.get_path("path");
    const bool skip_bad = params_.get_string("on_error") == "skip";
    std::vector<std::string> skipped_files;
    const Listing listing = list_folder(root, skip_bad, skipped_files);
    Selection train, test;
    select_and_split(listing.labels, params_, ctx.seed(), root.string(), train, test, listing.classes);

    // Only the selected images are decoded.
    std::vector<std::int64_t> wanted(train.indices);
    wanted.insert(wanted.end(), test.indices.begin(), test.indices.end());
    std::sort(wanted.begin(), wanted.end());
    std::vector<fs::path> files;
    for (auto i : wanted) files.push_back(listing.files[static_cast<std::size_t>(i)]);
    Decoded decoded = decode_all(files, prep_, skip_bad, ctx);
    for (const auto& e : decoded.errors) ctx.log("skipped: " + e);

    const auto per = static_cast<std::size_t>(numel(decoded.sample));
    auto make = [&](const Selection& s) {
      std::vector<float> pixels;
      std::vector<std::int32_t> labels;
      for (std::size_t k = 0; k < s.indices.size(); ++k) {
        const auto at = static_cast<std::size_t>(std::lower_bound(wanted.begin(), wanted.end(), s.indices[k]) - wanted.begin());
        if (!decoded.ok[at]) continue;
        pixels.insert(pixels.end(), decoded.pixels.begin() + static_cast<std::ptrdiff_t>(at * per),
                      decoded.pixels.begin() + static_cast<std::ptrdiff_t>((at + 1) * per));
        labels.push_back(s.labels[k]);
      }
      Shape shape = decoded.sample;
      shape.insert(shape.begin(), static_cast<std::int64_t>(labels.size()));
      return std::make_shared<Dataset>(Tensor(shape, std::move(pixels)), std::move(labels), s.class_names);
    };
    auto train_set = make(train);
    auto test_set = make(test);
    const auto skipped = static_cast<std::int64_t>(skipped_files.size() + decoded.errors.size());
    for (const auto& f : skipped_files) ctx.log("skipped: " + f + ": not an image");
    ctx.log("read " + std::to_string(files.size() - decoded.errors.size()) + " images of " + to_string(decoded.sample) +
            " from " + std::to_string(listing.classes.size()) + " class folders; train " + std::to_string(train_set->size()) +
            ", test " + std::to_string(test_set->size()) + (skipped ? ", skipped " + std::to_string(skipped) : ""));
    ctx.metric("source_samples", Value::integer(static_cast<std::int64_t>(listing.files.size())));
    ctx.metric("train_samples", Value::integer(train_set->size()));
    ctx.metric("test_samples", Value::integer(test_set->size()));
    ctx.metric("skipped", Value::integer(skipped));
    ctx.set_output("train", train_set);
    ctx.set_output("test", test_set);
  }

 private:
  Params params_;
  Preparation prep_;
};

void check_image_folder(const Params& p, Diagnostics& diag) {
  check_unique_classes(p, diag);
  const auto channels = p.get_int("channels");
  for (const char* name : {"mean", "std"}) {
    const auto& items = p.get(name).items();
    if (!items.empty() && static_cast<std::int64_t>(items.size()) != channels)
      diag.error(p.location(name), "parameter '" + std::string(name) + "' needs one value per channel (" +
                                       std::to_string(channels) + "), got " + p.get(name).str());
  }
  for (const auto& s : p.get_float_list("std"))
    if (s <= 0) diag.error(p.location("std"), "parameter 'std' needs values above 0, got " + p.get("std").str());
  const auto crop = p.get("crop").items();
  if (crop.size() > 2) diag.error(p.location("crop"), "parameter 'crop' needs [height, width] or [size], got " + p.get("crop").str());
}

}  // namespace

StageInfo image_folder_stage() {
  StageInfo info;
  info.name = "image_folder";
  info.doc = "read a folder of class subfolders of PNG/JPEG images (torchvision's ImageFolder order), resized, cropped, normalised";
  info.outputs = {
      {"train", "dataset", "the samples not held out for testing"},
      {"test", "dataset", "the held-out samples (test_fraction of each class)"},
  };
  info.params = {
      param_path("path", "the folder: one subfolder per class (class names from the folder names)").existing(),
      param_int("channels", "1 (gray) or 3 (RGB); images are converted as PIL's convert() does", 3).range(1, 3),
      param_int("resize", "resize the shorter side to this (antialiased bilinear); 0: keep the size", 0).range(0, 1 << 16),
      param_list("crop", "centre crop [height, width] (or [size]), after resizing; empty: none", ParamType::integer,
                 Value::list())
          .range(1, 1 << 16),
      param_list("mean", "per-channel mean subtracted after scaling pixels to [0, 1]; empty: none", ParamType::real,
                 Value::list()),
      param_list("std", "per-channel standard deviation divided by after the mean; empty: none", ParamType::real,
                 Value::list()),
      param_enum("on_error", "an unreadable or non-image file: fail the stage, or skip it (counted in 'skipped')",
                 {"fail", "skip"}, std::string("fail")),
  };
  for (auto& spec : sampling_params(1 << 20)) info.params.push_back(spec);
  // A 2-channel request is refused by the range and this: gray or RGB only.
  info.check = [](const Params& p, Diagnostics& diag) {
    if (p.get_int("channels") == 2) diag.error(p.location("channels"), "parameter 'channels' must be 1 or 3, got 2");
    check_image_folder(p, diag);
  };
  info.compute = true;  // decoding keeps every core busy
  info.create = [](const Params& p) { return std::make_unique<ImageFolder>(p); };
  info.uses_seed = [](const Params& p) { return p.get_int("per_class") > 0 || p.get_float("test_fraction") > 0; };
  // The key covers every file in the folder, not only the folder's own entry.
  info.files = [](const Params& p) { return std::vector<std::filesystem::path>{p.get_path("path")}; };
  return info;
}

}  // namespace pipeline::data
