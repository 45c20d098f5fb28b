#include "run/record.hpp"

#include <chrono>
#include <functional>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"

namespace pipeline {
namespace {

// The record's files, each written on its own: one that fails (a full disk, a read-only
// directory) is noted and the rest are still written, so whatever can be kept is.
thread_local std::vector<std::string>* record_problems = nullptr;

void best_effort(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& e) {
    if (!record_problems) throw;
    record_problems->push_back(e.what());
  }
}

void write_json(const std::filesystem::path& file, const Value& v) {
  best_effort([&] { write_file_atomic(file, [&](std::ostream& out) { out << to_json(v, 2) << '\n'; }); });
}

void make_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec && record_problems) record_problems->push_back("cannot create " + dir.string() + ": " + ec.message());
}

// Seeds are unsigned 64-bit: an integer when it fits, else its decimal text.
Value seed_value(std::uint64_t seed) {
  if (seed <= static_cast<std::uint64_t>(INT64_MAX)) return Value::integer(static_cast<std::int64_t>(seed));
  return Value::string(std::to_string(seed));
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  best_effort([&] { write_file_atomic(file, [&](std::ostream& out) { out << text; }); });
}

Value stage_json(const Plan& plan, const PlannedStage& s) {
  Value j = Value::map();
  j.set("plugin", Value::string(s.type->info.name));
  j.set("plugin_version", Value::string(s.type->plugin->version));
  j.set("params", s.params.all());
  Value inputs = Value::map();
  for (const auto& in : s.inputs) inputs.set(in.port, Value::string(plan.stages[in.producer].id + "." + in.producer_port));
  j.set("inputs", inputs);
  j.set("seed", Value::string(std::to_string(s.seed)));
  j.set("key", Value::string(s.key));
  return j;
}

Value plan_json(const Plan& plan) {
  Value planned = Value::map();
  planned.set("experiment", Value::string(plan.experiment));
  planned.set("file", Value::string(plan.file));
  planned.set("seed", seed_value(plan.seed));
  Value stages = Value::map();
  for (const auto& s : plan.stages) stages.set(s.id, stage_json(plan, s));
  planned.set("stages", stages);
  return planned;
}

// The summary's numbers: the report paths, or by default every accuracy and macro-F1 recorded at
// the top of a stage's metrics or one level down (per arm).
std::vector<std::pair<std::string, double>> report_values(const TrialPlan& t, const RunResult& result,
                                                          const std::vector<std::string>& report) {
  std::vector<std::pair<std::string, double>> out;
  auto metrics_of = [&](const std::string& id) -> const Value* {
    auto it = t.instance.find(id);
    if (it == t.instance.end()) return nullptr;
    const auto& o = result.stages[it->second];
    return o.status == StageStatus::done ? &o.metrics : nullptr;
  };
  if (!report.empty()) {
    for (const auto& path : report) {
      std::istringstream parts(path);
      std::string stage, part;
      std::getline(parts, stage, '.');
      const Value* v = metrics_of(stage);
      while (v && std::getline(parts, part, '.')) v = v->find(part);
      out.emplace_back(path, v && v->is_number() ? v->as_float() : NAN);
    }
    return out;
  }
  for (const auto& s : t.plan.stages) {
    const Value* m = metrics_of(s.id);
    if (!m) continue;
    for (const auto& [k, v] : m->entries()) {
      if ((k == "accuracy" || k == "macro_f1") && v.is_number()) out.emplace_back(s.id + "." + k, v.as_float());
      if (v.is_map())
        for (const auto& [k2, v2] : v.entries())
          if ((k2 == "accuracy" || k2 == "macro_f1") && v2.is_number()) out.emplace_back(s.id + "." + k + "." + k2, v2.as_float());
    }
  }
  return out;
}

// A CSV field as RFC 4180 writes it: quoted, quotes doubled, when it holds a comma, a quote or a
// line break (a list-valued grid label such as [1, 4, 3]).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double d, int precision = 4) {
  if (std::isnan(d)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, d);
  return buf;
}

// What a person reads at the end of a run that is not a sweep: each stage's StageContext::result
// texts in plan order under its id, or, when no stage gave one, the headline metrics (the
// `report:` paths, or every accuracy and macro-F1) as a two-column table.
std::string single_run_results(const SweepPlan& sweep, const RunResult& result) {
  std::string text;
  for (const auto& s : result.stages)
    for (const auto& r : s.results) text += (text.empty() ? "" : "\n") + s.id + ":\n" + r + (r.empty() || r.back() == '\n' ? "" : "\n");
  if (!text.empty() || sweep.trials.empty()) return text;
  const auto values = report_values(sweep.trials.front(), result, sweep.spec.report);
  std::size_t width = 0;
  for (const auto& [path, _] : values) width = std::max(width, path.size());
  for (const auto& [path, v] : values) text += path + std::string(width + 2 - path.size(), ' ') + number(v) + "\n";
  return text;
}

}  // namespace

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

void write_plan(const std::filesystem::path& run_dir, const Plan& plan) {
  write_file_atomic(run_dir / "plan.json", [&](std::ostream& out) { out << to_json(plan_json(plan), 2) << '\n'; });
}

std::string run_status(const RunResult& result) {
  if (result.interrupted) return "interrupted";
  return result.failed() ? "failed" : "done";
}

namespace {

std::string utc_text(double epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Value run_json(const std::filesystem::path& run_dir, const SweepPlan& sweep, const RunResult& result, const RunInfo& info) {
  Value j = Value::map();
  j.set("experiment", Value::string(sweep.merged.experiment));
  j.set("run", Value::string(run_dir.filename().string()));
  j.set("file", Value::string(sweep.merged.file));
  j.set("seed", seed_value(sweep.merged.seed));
  j.set("started", Value::string(utc_text(info.started)));
  j.set("started_epoch", Value::real(info.started));
  j.set("wall_seconds", Value::real(info.wall_seconds));
  j.set("status", Value::string(run_status(result)));
  j.set("executor", Value::string(info.executor));
  Value command = Value::list();
  for (const auto& a : info.command) command.push_back(Value::string(a));
  j.set("command", command);
  if (sweep.spec.present) j.set("trials", Value::integer(static_cast<std::int64_t>(sweep.trials.size())));
  std::map<std::string, std::int64_t> counts;
  std::int64_t cached = 0;
  for (const auto& s : result.stages) {
    ++counts[to_string(s.status)];
    cached += s.from_cache;
  }
  Value stages = Value::map();
  for (const auto& [status, n] : counts) stages.set(status, Value::integer(n));
  stages.set("from_cache", Value::integer(cached));
  j.set("stages", stages);
  Value headline = Value::map();
  if (!sweep.spec.present && !sweep.trials.empty())
    for (const auto& [path, v] : report_values(sweep.trials.front(), result, sweep.spec.report))
      if (!std::isnan(v)) headline.set(path, Value::real(v));
  j.set("headline", headline);
  return j;
}

}  // namespace

std::string write_run_record(const std::filesystem::path& run_dir, const SweepPlan& sweep, const RunResult& result,
                             const Value& lock, const RunInfo& info, std::vector<std::string>& problems) {
  record_problems = &problems;
  struct Reset {
    ~Reset() { record_problems = nullptr; }
  } reset;
  const Plan& plan = sweep.merged;
  write_json(run_dir / "plan.json", plan_json(plan));

  // Wall times vary from run to run, so they live apart: metrics.json stays bit-identical for the
  // same config and seed.
  Value metrics = Value::map(), timings = Value::map();
  metrics.set("experiment", Value::string(plan.experiment));
  metrics.set("seed", seed_value(plan.seed));
  metrics.set("interrupted", Value::boolean(result.interrupted));
  Value out = Value::map();
  for (const auto& s : result.stages) {
    Value j = Value::map();
    j.set("status", Value::string(to_string(s.status)));
    if (!s.message.empty()) j.set("message", Value::string(s.message));
    j.set("metrics", s.metrics);
    out.set(s.id, j);
    Value t = Value::map();
    t.set("seconds", Value::real(s.seconds));
    t.set("from_cache", Value::boolean(s.from_cache));
    if (s.started > 0) t.set("started", Value::real(s.started));
    if (s.thread > 0) t.set("thread", Value::integer(s.thread));
    for (const auto& [key, value] : s.timings.entries()) t.set(key, value);
    timings.set(s.id, t);
    if (!s.logs.empty()) {
      make_dir(run_dir / "stages" / s.id);
      std::string text;
      for (const auto& l : s.logs) text += l + "\n";
      write_text(run_dir / "stages" / s.id / "log.txt", text);
    }
  }
  metrics.set("stages", out);
  write_json(run_dir / "metrics.json", metrics);
  write_json(run_dir / "timings.json", timings);
  write_json(run_dir / "lock.json", lock);
  if (!sweep.spec.present) {
    const std::string results = single_run_results(sweep, result);
    write_text(run_dir / "results.txt", results);
    write_json(run_dir / "run.json", run_json(run_dir, sweep, result, info));
    return results;
  }

  // Per trial: its resolved config and its metrics; then the summary across trials.
  std::vector<std::string> columns;  // report paths, in first-seen order
  struct Row {
    const TrialPlan* trial;
    std::string status;
    std::map<std::string, double> values;
  };
  std::vector<Row> rows;
  for (const auto& t : sweep.trials) {
    char name[16];
    std::snprintf(name, sizeof name, "%03zu", t.trial.index);
    const auto dir = run_dir / "trials" / name;
    make_dir(dir);
    const Value trial_seed = t.trial.seed ? seed_value(*t.trial.seed) : Value();
    Value config = Value::map();
    config.set("trial", Value::integer(static_cast<std::int64_t>(t.trial.index)));
    config.set("labels", t.trial.labels);
    config.set("seed", trial_seed);
    Value cs = Value::map();
    for (const auto& s : t.plan.stages) cs.set(s.id, stage_json(t.plan, s));
    config.set("stages", cs);
    write_json(dir / "config.json", config);

    Value tm = Value::map();
    tm.set("trial", Value::integer(static_cast<std::int64_t>(t.trial.index)));
    tm.set("labels", t.trial.labels);
    tm.set("seed", trial_seed);
    std::string status = "done";
    Value ts = Value::map();
    for (const auto& s : t.plan.stages) {
      const StageOutcome& o = result.stages[t.instance.at(s.id)];
      Value entry = Value::map();
      entry.set("status", Value::string(to_string(o.status)));
      entry.set("metrics", o.metrics);
      ts.set(s.id, entry);
      if (o.status == StageStatus::failed && status == "done") status = "failed: " + s.id + ": " + o.message;
      if ((o.status == StageStatus::cancelled || o.status == StageStatus::not_run) && status == "done") status = "interrupted";
    }
    tm.set("stages", ts);
    tm.set("status", Value::string(status));
    write_json(dir / "metrics.json", tm);
    Row row{&t, status, {}};
    for (const auto& [path, v] : report_values(t, result, sweep.spec.report)) {
      if (std::find(columns.begin(), columns.end(), path) == columns.end()) columns.push_back(path);
      row.values[path] = v;
    }
    rows.push_back(std::move(row));
  }

  // One table row per trial, then mean and standard deviation over seeds per grid point.
  std::vector<std::string> labels;  // every label any trial has (explicit trials may differ)
  for (const auto& t : sweep.trials)
    for (const auto& [k, _] : t.trial.labels.entries())
      if (std::find(labels.begin(), labels.end(), k) == labels.end()) labels.push_back(k);
  std::string csv = "trial";
  for (const auto& l : labels) csv += "," + csv_field(l);
  csv += ",seed,status";
  for (const auto& c : columns) csv += "," + c;
  csv += "\n";
  std::string md = "| trial |";
  for (const auto& l : labels) md += " " + l + " |";
  md += " seed | status |";
  for (const auto& c : columns) md += " " + c + " |";
  md += "\n|---|";
  for (std::size_t i = 0; i < labels.size() + 2 + columns.size(); ++i) md += "---|";
  md += "\n";
  std::map<std::string, std::vector<const Row*>> points;  // grid point → its trials
  std::vector<std::string> point_order;
  for (const auto& r : rows) {
    std::string point, point_md;
    for (const auto& l : labels) {
      const Value* v = r.trial->trial.labels.find(l);
      point += (point.empty() ? "" : ",") + csv_field(v ? v->str() : "");
      point_md += " " + (v ? v->str() : "") + " |";
    }
    if (!points.count(point_md)) point_order.push_back(point_md);
    points[point_md].push_back(&r);
    const std::string seed = r.trial->trial.seed ? std::to_string(*r.trial->trial.seed) : "";
    std::string quoted_status = r.status;
    for (auto& ch : quoted_status)
      if (ch == '"' || ch == '\n') ch = '\'';
    csv += std::to_string(r.trial->trial.index) + (labels.empty() ? "" : "," + point) + "," + seed + ",\"" + quoted_status + "\"";
    md += "| " + std::to_string(r.trial->trial.index) + " |" + point_md + " " + seed + " | " +
          (r.status == "done" ? "done" : r.status.substr(0, 60)) + " |";
    for (const auto& c : columns) {
      auto it = r.values.find(c);
      const double v = it == r.values.end() ? NAN : it->second;
      csv += "," + (std::isnan(v) ? std::string() : number(v, 6));
      md += " " + number(v) + " |";
    }
    csv += "\n";
    md += "\n";
  }
  // Per grid point (the labels' cells), over its seeds.
  std::string agg = "\n|";
  for (const auto& l : labels) agg += " " + l + " |";
  if (labels.empty()) agg += " trials |";
  for (const auto& c : columns) agg += " " + c + " (mean ± std) |";
  agg += " seeds |\n|";
  for (std::size_t i = 0; i < std::max<std::size_t>(labels.size(), 1) + columns.size() + 1; ++i) agg += "---|";
  agg += "\n";
  for (const auto& p : point_order) {
    agg += "|" + (p.empty() ? std::string(" all |") : p);
    for (const auto& c : columns) {
      std::vector<double> xs;
      for (const Row* r : points[p]) {
        auto it = r->values.find(c);
        if (it != r->values.end() && !std::isnan(it->second)) xs.push_back(it->second);
      }
      if (xs.empty()) {
        agg += " - |";
        continue;
      }
      double mean = 0, var = 0;
      for (double x : xs) mean += x;
      mean /= static_cast<double>(xs.size());
      for (double x : xs) var += (x - mean) * (x - mean);
      const double sd = xs.size() > 1 ? std::sqrt(var / static_cast<double>(xs.size() - 1)) : 0.0;
      agg += " " + number(mean) + " ± " + number(sd) + " |";
    }
    // The seeds the means are over: trials that finished, not every trial of the point (an
    // interrupted or failed one contributes nothing).
    std::size_t finished = 0;
    for (const Row* r : points[p]) finished += r->status == "done";
    agg += " " + std::to_string(finished) + (finished == points[p].size() ? "" : " of " + std::to_string(points[p].size())) + " |\n";
  }
  write_text(run_dir / "summary.csv", csv);
  write_text(run_dir / "summary.md", md + agg);
  write_text(run_dir / "results.txt", md + agg);
  write_json(run_dir / "run.json", run_json(run_dir, sweep, result, info));
  return md + agg;
}

}  // namespace pipeline
