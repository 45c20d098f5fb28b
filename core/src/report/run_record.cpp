#include "report/run_record.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "pipeline/error.hpp"
#include "pipeline/json.hpp"

namespace pipeline::report {
namespace fs = std::filesystem;
namespace {

// Run records are ours, but a report must not be a way to exhaust memory either.
constexpr std::uintmax_t max_record_file_bytes = std::uintmax_t(1) << 28;

// The file's text, or nothing when absent (a problem noted when it is there but unreadable).
std::optional<std::string> read_optional(const fs::path& file, std::vector<std::string>& problems) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  const auto size = fs::file_size(file, ec);
  if (ec || size > max_record_file_bytes) {
    problems.push_back(file.filename().string() + ": " + (ec ? ec.message() : "larger than 256 MiB: not read"));
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    problems.push_back(file.filename().string() + ": cannot be read");
    return std::nullopt;
  }
  return text.str();
}

Value read_json_file(const fs::path& file, std::vector<std::string>& problems) {
  const auto text = read_optional(file, problems);
  if (!text) return Value();
  try {
    return parse_json(*text, file.filename().string());
  } catch (const std::exception& e) {
    problems.push_back(e.what());
    return Value();
  }
}

// "20261202-040309-12" -> ("20261202-040309", 12): ids sort by time, then counter.
std::pair<std::string, long> run_id_order(const std::string& id) {
  const auto dash = id.rfind('-');
  if (dash == std::string::npos) return {id, 0};
  try {
    return {id.substr(0, dash), std::stol(id.substr(dash + 1))};
  } catch (const std::exception&) {
    return {id, 0};
  }
}

void list_dirs(const fs::path& dir, std::vector<fs::path>& out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path());
}

}  // namespace

std::string RunRecord::status() const {
  if (const Value* s = run.is_map() ? run.find("status") : nullptr; s && s->is_string()) return s->as_string();
  return "incomplete";
}

Value RunRecord::stage_results() const {
  if (const Value* stages = metrics.is_map() ? metrics.find("stages") : nullptr; stages && stages->is_map()) return *stages;
  Value out = Value::map();
  for (const auto& line : progress) {
    const Value* id = line.find("id");
    if (!id || !id->is_string()) continue;
    Value entry = Value::map();
    if (const Value* s = line.find("status")) entry.set("status", *s);
    if (const Value* m = line.find("message")) entry.set("message", *m);
    if (const Value* m = line.find("metrics")) entry.set("metrics", *m);
    out.set(id->as_string(), entry);
  }
  return out;
}

bool is_run_record(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : {"plan.json", "metrics.json", "progress.jsonl", "run.json"})
    if (fs::is_regular_file(dir / name, ec)) return true;
  return false;
}

RunRecord read_run_record(const fs::path& dir, bool summary_only) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorCode::usage, dir.string() + " is not a directory");
  if (!is_run_record(dir))
    throw Error(ErrorCode::usage, dir.string() + " is not a run record (no plan.json, metrics.json, progress.jsonl or run.json)");
  RunRecord r;
  r.dir = dir;
  r.run_id = dir.filename().string();
  r.experiment = dir.parent_path().filename().string();
  r.run = read_json_file(dir / "run.json", r.problems);
  if (const Value* e = r.run.is_map() ? r.run.find("experiment") : nullptr; e && e->is_string()) r.experiment = e->as_string();
  if (summary_only && r.run.is_map()) return r;
  if (!summary_only) {
    r.plan = read_json_file(dir / "plan.json", r.problems);
    r.metrics = read_json_file(dir / "metrics.json", r.problems);
    r.timings = read_json_file(dir / "timings.json", r.problems);
    r.lock = read_json_file(dir / "lock.json", r.problems);
  }
  if (auto text = read_optional(dir / "progress.jsonl", r.problems)) {
    std::istringstream lines(*text);
    std::size_t number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++number;
      if (line.empty()) continue;
      try {
        Value v = parse_json(line, "progress.jsonl line " + std::to_string(number));
        if (v.is_map()) r.progress.push_back(std::move(v));
      } catch (const std::exception& e) {
        r.problems.push_back(e.what());  // a line cut short by a crash: the rest still count
      }
    }
  }
  if (summary_only) return r;
  r.results = read_optional(dir / "results.txt", r.problems).value_or("");
  r.summary_csv = read_optional(dir / "summary.csv", r.problems).value_or("");
  return r;
}

std::vector<fs::path> list_run_records(const fs::path& runs_root, const std::string& experiment) {
  std::vector<fs::path> experiments, records;
  if (!experiment.empty()) experiments.push_back(runs_root / experiment);
  else list_dirs(runs_root, experiments);
  for (const auto& e : experiments) {
    std::vector<fs::path> runs;
    list_dirs(e, runs);
    for (const auto& r : runs)
      if (is_run_record(r)) records.push_back(r);
  }
  std::sort(records.begin(), records.end(), [](const fs::path& a, const fs::path& b) {
    const auto ka = run_id_order(a.filename().string()), kb = run_id_order(b.filename().string());
    if (ka != kb) return ka > kb;
    return a > b;
  });
  return records;
}

fs::path find_run_record(const std::string& name, const fs::path& runs_root) {
  std::error_code ec;
  if (fs::is_directory(name, ec)) return name;
  if (fs::is_directory(runs_root / name, ec)) return runs_root / name;
  std::vector<fs::path> matches;
  for (const auto& r : list_run_records(runs_root))
    if (r.filename() == name) matches.push_back(r);
  if (matches.size() == 1) return matches.front();
  if (matches.size() > 1)
    throw Error(ErrorCode::usage, "run '" + name + "' is ambiguous under " + runs_root.string() + ": give EXPERIMENT/" + name);
  throw Error(ErrorCode::usage, "no run record '" + name + "' (looked for a directory, and under " + runs_root.string() +
                                    "; `pipeline runs` lists them)");
}

std::vector<std::pair<std::string, Value>> flatten(const Value& v, const std::string& prefix) {
  std::vector<std::pair<std::string, Value>> out;
  if (v.is_map()) {
    if (v.size() == 0) out.emplace_back(prefix, v);
    for (const auto& [k, child] : v.entries())
      for (auto& leaf : flatten(child, prefix.empty() ? k : prefix + "." + k)) out.push_back(std::move(leaf));
  } else if (v.is_list()) {
    if (v.size() == 0) out.emplace_back(prefix, v);
    for (std::size_t i = 0; i < v.items().size(); ++i)
      for (auto& leaf : flatten(v.items()[i], prefix + "[" + std::to_string(i) + "]")) out.push_back(std::move(leaf));
  } else {
    out.emplace_back(prefix, v);
  }
  return out;
}

}  // namespace pipeline::report
