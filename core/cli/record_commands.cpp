#include "record_commands.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "pipeline/error.hpp"
#include "pipeline/json.hpp"
#include "report/html_report.hpp"
#include "report/run_record.hpp"

namespace pipeline::cli {
namespace fs = std::filesystem;
using report::RunRecord;

namespace {

std::string text_of(const Value& v, std::size_t width = 28) {
  std::string t;
  if (v.is_null()) t = "-";
  else if (v.kind() == Value::Kind::real) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v.as_float());
    t = buf;
  } else if (v.is_string()) t = v.as_string();
  else if ((v.is_list() || v.is_map()) && v.size() == 0) t = v.is_list() ? "[]" : "{}";
  else t = v.str();
  for (auto& c : t)
    if (c == '\n' || c == '\t') c = ' ';
  if (t.size() > width) t = t.substr(0, width - 3) + "...";
  return t;
}

std::string pad(const std::string& s, std::size_t width) { return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' '); }

const Value* at(const Value& v, const char* key) { return v.is_map() ? v.find(key) : nullptr; }

std::string started_of(const RunRecord& r) {
  if (const Value* s = at(r.run, "started"); s && s->is_string()) {
    std::string t = s->as_string();
    if (t.size() >= 19) t[10] = ' ';
    return t.substr(0, 19);
  }
  // From the run id: YYYYMMDD-HHMMSS-N.
  const std::string& id = r.run_id;
  if (id.size() >= 15 && id[8] == '-')
    return id.substr(0, 4) + "-" + id.substr(4, 2) + "-" + id.substr(6, 2) + " " + id.substr(9, 2) + ":" + id.substr(11, 2) + ":" +
           id.substr(13, 2);
  return "?";
}

std::string wall_of(const RunRecord& r) {
  const Value* w = at(r.run, "wall_seconds");
  if (!w || !w->is_number()) return "-";
  char buf[32];
  const double s = w->as_float();
  const long long whole = std::isfinite(s) && s > 0 ? static_cast<long long>(std::min(s, 1e12) + 0.5) : 0;
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (whole < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", whole / 60, whole % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", whole / 3600, whole / 60 % 60);
  return buf;
}

std::string headline_of(const RunRecord& r) {
  if (const Value* t = at(r.run, "trials"); t && t->is_int()) return std::to_string(t->as_int()) + " trials (summary.csv)";
  std::string out;
  int shown = 0;
  if (const Value* h = at(r.run, "headline"); h && h->is_map())
    for (const auto& [path, v] : h->entries()) {
      if (shown++ == 3) {
        out += ", ...";
        break;
      }
      out += (out.empty() ? "" : ", ") + path + " " + text_of(v);
    }
  if (!r.run.is_map()) out = std::to_string(r.progress.size()) + " stages finished (progress.jsonl)";
  return out;
}

}  // namespace

int list_runs(const fs::path& runs_root, const std::string& experiment) {
  const auto records = report::list_run_records(runs_root, experiment);
  if (records.empty()) {
    std::cerr << "no run records under " << (experiment.empty() ? runs_root : runs_root / experiment).string()
              << " (--runs-dir DIR or $PIPELINE_RUNS_DIR chooses the directory)\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"RUN", "STARTED (UTC)", "SEED", "STATUS", "WALL", "HEADLINE"}};
  for (const auto& dir : records) {
    RunRecord r;
    try {
      r = report::read_run_record(dir, /*summary_only=*/true);
    } catch (const std::exception& e) {
      continue;  // vanished meanwhile
    }
    const Value* seed = at(r.run, "seed");
    if (!seed) seed = at(r.metrics, "seed");
    rows.push_back({r.experiment + "/" + r.run_id, started_of(r), seed ? text_of(*seed) : "-", r.status(), wall_of(r), headline_of(r)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) line += c + 1 == row.size() ? row[c] : pad(row[c], width[c] + 1);
    std::cout << line << "\n";
  }
  return 0;
}

namespace {

// What a diff compares: "name" -> value, in the order first seen.
struct Side {
  std::vector<std::string> order;
  std::map<std::string, Value> values;
  void add(const std::string& name, const Value& v) {
    if (!values.count(name)) order.push_back(name);
    values[name] = v;
  }
};

// The experiment's seed and each stage's type, version, parameters and inputs (not its key or
// derived seed: those differ whenever anything upstream does).
Side parameters_of(const RunRecord& r) {
  Side s;
  if (const Value* seed = at(r.plan, "seed")) s.add("seed", *seed);
  if (const Value* stages = at(r.plan, "stages"); stages && stages->is_map())
    for (const auto& [id, stage] : stages->entries())
      for (const char* part : {"plugin", "plugin_version", "params", "inputs"})
        if (const Value* v = at(stage, part))
          for (const auto& [path, leaf] : report::flatten(*v, id + "." + part)) s.add(path, leaf);
  return s;
}

Side metrics_of(const RunRecord& r) {
  Side s;
  const Value stages = r.stage_results();
  for (const auto& [id, entry] : stages.entries()) {
    if (const Value* st = at(entry, "status")) s.add(id + ".status", *st);
    if (const Value* m = at(entry, "metrics"))
      for (const auto& [path, leaf] : report::flatten(*m, id)) s.add(path, leaf);
  }
  return s;
}

int print_differences(const std::string& title, const Side& a, const Side& b, bool deltas) {
  std::vector<std::string> names = a.order;
  std::set<std::string> seen(names.begin(), names.end());
  for (const auto& n : b.order)
    if (!seen.count(n)) names.push_back(n);
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : names) {
    const auto ia = a.values.find(n), ib = b.values.find(n);
    const Value va = ia == a.values.end() ? Value() : ia->second, vb = ib == b.values.end() ? Value() : ib->second;
    if (ia != a.values.end() && ib != b.values.end() && to_json(va) == to_json(vb)) continue;
    std::string delta;
    if (deltas && va.is_number() && vb.is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%+.6g", vb.as_float() - va.as_float());
      delta = buf;
    }
    rows.push_back({"  " + n, ia == a.values.end() ? "(absent)" : text_of(va), ib == b.values.end() ? "(absent)" : text_of(vb), delta});
  }
  if (rows.empty()) {
    std::cout << title << ": identical\n";
    return 0;
  }
  std::size_t w0 = title.size(), w1 = 1, w2 = 1;
  for (const auto& r : rows) {
    w0 = std::max(w0, r[0].size());
    w1 = std::max(w1, r[1].size());
    w2 = std::max(w2, r[2].size());
  }
  std::cout << pad(title, w0 + 2) << pad("a", w1 + 2) << pad("b", w2 + 2) << (deltas ? "b - a" : "") << "\n";
  for (const auto& r : rows) {
    std::string line = pad(r[0], w0 + 2) + pad(r[1], w1 + 2) + (r[3].empty() ? r[2] : pad(r[2], w2 + 2) + r[3]);
    std::cout << line << "\n";
  }
  return static_cast<int>(rows.size());
}

}  // namespace

int diff_runs(const std::string& a_name, const std::string& b_name, const fs::path& runs_root) {
  const RunRecord a = report::read_run_record(report::find_run_record(a_name, runs_root));
  const RunRecord b = report::read_run_record(report::find_run_record(b_name, runs_root));
  std::cout << "a: " << a.dir.string() << " (" << started_of(a) << ", " << a.status() << ", " << wall_of(a) << ")\n"
            << "b: " << b.dir.string() << " (" << started_of(b) << ", " << b.status() << ", " << wall_of(b) << ")\n\n";
  const int params = print_differences("parameters", parameters_of(a), parameters_of(b), false);
  std::cout << "\n";
  const int metrics = print_differences("metrics", metrics_of(a), metrics_of(b), true);
  std::cout << "\n" << params << (params == 1 ? " parameter" : " parameters") << " and " << metrics
            << (metrics == 1 ? " metric" : " metrics") << " differ\n";
  for (const auto* r : {&a, &b})
    for (const auto& p : r->problems) std::cerr << "pipeline: warning: " << r->dir.string() << ": " << p << "\n";
  return 0;
}

int report_run(const std::string& run, const fs::path& runs_root, const fs::path& output) {
  const RunRecord r = report::read_run_record(report::find_run_record(run, runs_root));
  const fs::path file = output.empty() ? r.dir / "report.html" : output;
  report::write_html_report(r, file);
  for (const auto& p : r.problems) std::cerr << "pipeline: warning: " << r.dir.string() << ": " << p << "\n";
  if (r.status() != "done")
    std::cerr << "pipeline: note: the run is " << r.status() << "; the report shows what finished and marks the rest\n";
  std::cout << file.string() << "\n";
  return 0;
}

}  // namespace pipeline::cli
