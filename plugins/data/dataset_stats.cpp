// dataset_stats: counts per class and pixel mean / standard deviation of a dataset, printed as a
// table and recorded as metrics.
#include <cmath>
#include <cstdio>
#include <memory>

#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

class DatasetStats : public Stage {
 public:
  void run(StageContext& ctx) override {
    auto data = ctx.input_as<Dataset>("data");
    const auto counts = data->class_counts();
    const std::int64_t n = data->size();

    // Double accumulators per sample keep the sum exact enough for 47M values and independent of
    // the thread count.
    double sum = 0, sum_sq = 0;
    const std::int64_t per = data->sample_numel();
    for (std::int64_t i = 0; i < n; ++i) {
      const float* x = data->sample(i);
      double s = 0, q = 0;
      for (std::int64_t j = 0; j < per; ++j) {
        s += x[j];
        q += static_cast<double>(x[j]) * x[j];
      }
      sum += s;
      sum_sq += q;
      if ((i & 4095) == 0) ctx.throw_if_stopped();
    }
    const double total = static_cast<double>(n) * static_cast<double>(per);
    const double mean = total > 0 ? sum / total : 0.0;
    const double stddev = total > 0 ? std::sqrt(std::max(0.0, sum_sq / total - mean * mean)) : 0.0;

    char line[128];
    std::string table = data->summary() + "\nclass  name        count  fraction";
    Value per_class = Value::list();
    for (std::size_t c = 0; c < counts.size(); ++c) {
      std::snprintf(line, sizeof line, "%5zu  %-10s %6lld  %8.4f", c, data->class_names()[c].c_str(),
                    static_cast<long long>(counts[c]), n ? static_cast<double>(counts[c]) / n : 0.0);
      table += '\n';
      table += line;
      per_class.push_back(Value::integer(counts[c]));
    }
    std::snprintf(line, sizeof line, "pixel mean %.6f, std %.6f", mean, stddev);
    ctx.log(table + "\n" + line);

    Value stats = Value::map();
    stats.set("samples", Value::integer(n));
    stats.set("classes", Value::integer(data->num_classes()));
    stats.set("per_class", per_class);
    stats.set("pixel_mean", Value::real(mean));
    stats.set("pixel_std", Value::real(stddev));
    for (const auto& [key, value] : stats.entries()) ctx.metric(key, value);
    ctx.set_output("stats", std::make_shared<Metrics>(stats));
  }
};

}  // namespace

StageInfo dataset_stats_stage() {
  StageInfo info;
  info.name = "dataset_stats";
  info.doc = "count samples per class and compute the pixel mean and standard deviation";
  info.inputs = {{"data", "dataset", "the dataset to describe"}};
  info.outputs = {{"stats", "metrics", "samples, classes, per_class counts, pixel_mean, pixel_std"}};
  info.create = [](const Params&) { return std::make_unique<DatasetStats>(); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::data
