#include "run/record.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>

#include "pipeline/io.hpp"

namespace pipeline {
namespace {

nlohmann::ordered_json json_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: return nullptr;
    case Value::Kind::boolean: return v.as_bool();
    case Value::Kind::integer: return v.as_int();
    case Value::Kind::real: {
      const double d = v.as_float();
      if (std::isfinite(d)) return d;
      return std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf";  // JSON has no non-finite numbers
    }
    case Value::Kind::string: return v.as_string();
    case Value::Kind::list: {
      auto a = nlohmann::ordered_json::array();
      for (const auto& item : v.items()) a.push_back(json_of(item));
      return a;
    }
    case Value::Kind::map: {
      auto o = nlohmann::ordered_json::object();
      for (const auto& [k, item] : v.entries()) o[k] = json_of(item);
      return o;
    }
  }
  return nullptr;
}

void write_json(const std::filesystem::path& file, const nlohmann::ordered_json& j) {
  write_file_atomic(file, [&](std::ostream& out) { out << j.dump(2) << '\n'; });
}

}  // namespace

std::string to_json(const Value& value, int indent) { return json_of(value).dump(indent); }

std::filesystem::path create_run_dir(const std::filesystem::path& runs_root,
                                     const std::string& experiment) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  const auto base = runs_root / experiment;
  std::filesystem::create_directories(base);
  for (int n = 1;; ++n) {
    auto dir = base / (std::string(stamp) + "-" + std::to_string(n));
    // create_directory is atomic: two runs started in the same second get different ids.
    if (std::filesystem::create_directory(dir)) return dir;
  }
}

void write_run_record(const std::filesystem::path& run_dir, const Plan& plan,
                      const RunResult& result) {
  nlohmann::ordered_json planned;
  planned["experiment"] = plan.experiment;
  planned["file"] = plan.file;
  planned["seed"] = plan.seed;
  auto& stages = planned["stages"] = nlohmann::ordered_json::object();
  for (const auto& s : plan.stages) {
    auto& j = stages[s.id];
    j["plugin"] = s.type->info.name;
    j["plugin_version"] = s.type->plugin->version;
    j["params"] = json_of(s.params.all());
    auto& inputs = j["inputs"] = nlohmann::ordered_json::object();
    for (const auto& in : s.inputs) inputs[in.port] = plan.stages[in.producer].id + "." + in.producer_port;
    j["seed"] = s.seed;
  }
  write_json(run_dir / "plan.json", planned);

  nlohmann::ordered_json metrics;
  metrics["experiment"] = plan.experiment;
  metrics["seed"] = plan.seed;
  metrics["interrupted"] = result.interrupted;
  // Wall times vary from run to run, so they live apart: metrics.json stays bit-identical for the
  // same config and seed.
  nlohmann::ordered_json timings;
  auto& out = metrics["stages"] = nlohmann::ordered_json::object();
  for (const auto& s : result.stages) {
    auto& j = out[s.id];
    j["status"] = to_string(s.status);
    if (!s.message.empty()) j["message"] = s.message;
    j["metrics"] = json_of(s.metrics);
    auto& t = timings[s.id];
    t["seconds"] = s.seconds;
    for (const auto& [key, value] : s.timings.entries()) t[key] = json_of(value);
  }
  write_json(run_dir / "metrics.json", metrics);
  write_json(run_dir / "timings.json", timings);
}

}  // namespace pipeline
