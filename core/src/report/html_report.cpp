#include "report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "report/svg.hpp"

namespace pipeline::report {
namespace {

// Beyond these, the report says how many more there are and where they are in the record.
constexpr std::size_t max_evaluations_drawn = 12;
constexpr std::size_t max_trial_rows = 2000;
constexpr std::size_t max_series_per_chart = 40;
// A confusion matrix of more classes than this is not drawn (its cells alone would be megabytes);
// the per-class bars stop at twice as many.
constexpr std::size_t max_heatmap_classes = 100;

const Value* at(const Value& v, const char* key) { return v.is_map() ? v.find(key) : nullptr; }

std::string str_at(const Value& v, const char* key, const std::string& fallback = "") {
  const Value* s = at(v, key);
  return s && s->is_string() ? s->as_string() : fallback;
}

double num_at(const Value& v, const char* key) {
  const Value* s = at(v, key);
  return s && s->is_number() ? s->as_float() : NAN;
}

// "fit@3" -> "fit": instances of one stage across a sweep's trials share a chart.
std::string base_id(const std::string& id) { return id.substr(0, id.find('@')); }

const char* css = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto; max-width: 1200px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; } .meta { color: #555; margin: 0 0 8px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; color: #fff; }
.status-done { background: #59a14f; } .status-failed { background: #e15759; } .status-interrupted, .status-incomplete { background: #f28e2b; }
.note { background: #fff4e5; border-left: 4px solid #f28e2b; padding: 8px 12px; margin: 12px 0; }
nav a { margin-right: 12px; } pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f0f2f4; } td.text, th.text { text-align: left; } .scroll { max-height: 480px; overflow: auto; display: inline-block; max-width: 100%; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
svg.chart { background: #fff; border: 1px solid #e3e3e3; font-size: 11px; }
svg.chart text { fill: #333; } svg.chart .chart-title { font-size: 13px; font-weight: 600; } svg.chart .axis-label { font-size: 12px; fill: #555; }
svg.chart .grid { stroke: #eee; } svg.chart .frame { fill: none; stroke: #999; } svg.chart .frame-line, svg.chart .tick { stroke: #999; }
svg.chart .on-dark { fill: #fff; } svg.chart .edge { fill: none; stroke: #999; stroke-width: 1.2; }
svg.chart .node rect { stroke: #555; } svg.chart .node-id { font-weight: 600; } svg.chart .node-type { fill: #444; font-size: 10px; }
svg.chart .bar-label { font-size: 10px; } details summary { cursor: pointer; color: #245; }
@media print { nav { display: none; } .scroll { max-height: none; overflow: visible; } }
)";

struct StageView {
  std::string id, type, status;
  std::string message;  // why it failed or was skipped
  bool from_cache = false;
  Value metrics;
};

// Every stage of the record in plan order (then any only progress.jsonl knows), with its status:
// done, cached, failed, skipped, cancelled or "not run" (planned, never finished).
std::vector<StageView> stages_of(const RunRecord& r) {
  std::vector<StageView> out;
  const Value results = r.stage_results();
  std::map<std::string, std::size_t> index;
  auto add = [&](const std::string& id, const std::string& type) {
    index[id] = out.size();
    StageView v;
    v.id = id;
    v.type = type;
    v.status = "not run";
    out.push_back(v);
  };
  if (const Value* stages = at(r.plan, "stages"); stages && stages->is_map())
    for (const auto& [id, s] : stages->entries()) add(id, str_at(s, "plugin"));
  for (const auto& [id, entry] : results.entries()) {
    if (!index.count(id)) add(id, "");
    StageView& v = out[index[id]];
    v.status = str_at(entry, "status", "not run");
    if (v.status == "FAILED") v.status = "failed";
    v.message = str_at(entry, "message");
    if (const Value* m = at(entry, "metrics")) v.metrics = *m;
  }
  for (const auto& line : r.progress)
    if (auto it = index.find(str_at(line, "id")); it != index.end()) {
      if (const Value* c = at(line, "from_cache"); c && c->is_bool()) out[it->second].from_cache = c->as_bool();
    }
  for (auto& v : out)
    if (const Value* t = at(r.timings, v.id.c_str()))
      if (const Value* c = at(*t, "from_cache"); c && c->is_bool()) v.from_cache = c->as_bool();
  for (auto& v : out)
    if (v.status == "done" && v.from_cache) v.status = "cached";
  return out;
}

std::string header(const RunRecord& r) {
  const std::string status = r.status();
  std::string h = "<header><h1>" + escape(r.experiment) + "</h1><p class=\"meta\">run " + escape(r.run_id) + " &#183; <span class=\"status status-" +
                  escape(status) + "\">" + escape(status) + "</span>";
  if (const std::string started = str_at(r.run, "started"); !started.empty()) h += " &#183; started " + escape(started);
  if (double w = num_at(r.run, "wall_seconds"); !std::isnan(w)) h += " &#183; wall time " + format_number(w, 4) + " s";
  const Value* seed = at(r.run, "seed") ? at(r.run, "seed") : at(r.metrics, "seed");
  if (seed) h += " &#183; seed " + escape(seed->is_string() ? seed->as_string() : seed->str());
  if (const std::string e = str_at(r.run, "executor"); !e.empty()) h += " &#183; executor " + escape(e);
  h += "</p>";
  if (const Value* cmd = at(r.run, "command"); cmd && cmd->is_list()) {
    std::string line;
    for (const auto& a : cmd->items()) line += (line.empty() ? "" : " ") + (a.is_string() ? a.as_string() : a.str());
    h += "<p class=\"meta\"><code>" + escape(line) + "</code></p>";
  }
  h += "</header>";
  if (status != "done") {
    h += "<p class=\"note\">This run is <b>" + escape(status) + "</b>. ";
    if (!r.run.is_map())
      h += "It ended before writing its record (a crash, a kill, or the record could not be written): what is shown comes from what finished "
           "(<code>progress.jsonl</code>). ";
    h += "Stages that did not finish are marked in the graph; the same command again resumes after the finished ones.</p>";
  }
  if (!r.problems.empty()) {
    h += "<p class=\"note\">Parts of the record could not be read:</p><ul>";
    for (const auto& p : r.problems) h += "<li>" + escape(p) + "</li>";
    h += "</ul>";
  }
  return h;
}

std::string dag_section(const RunRecord& r, const std::vector<StageView>& stages) {
  std::vector<DagNode> nodes;
  std::map<std::string, std::size_t> index;
  for (const auto& s : stages) {
    index[s.id] = nodes.size();
    nodes.push_back({s.id, s.type, s.status});
  }
  std::vector<DagEdge> edges;
  if (const Value* ps = at(r.plan, "stages"); ps && ps->is_map())
    for (const auto& [id, s] : ps->entries())
      if (const Value* inputs = at(s, "inputs"); inputs && inputs->is_map())
        for (const auto& [port, from] : inputs->entries()) {
          if (!from.is_string()) continue;
          const std::string producer = from.as_string().substr(0, from.as_string().rfind('.'));
          if (index.count(producer) && index.count(id)) edges.push_back({index[producer], index[id]});
        }
  std::map<std::string, int> counts;
  for (const auto& s : stages) ++counts[s.status];
  std::string summary;
  for (const auto& [status, n] : counts) summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  return "<section id=\"dag\"><h2>Stages</h2><p>" + std::to_string(stages.size()) + " stage instances: " + escape(summary) +
         ".</p><div class=\"scroll\">" + render_dag(nodes, edges) + "</div></section>";
}

// Each failed stage with its error; the stages skipped for want of an input, counted.
std::string failures_section(const std::vector<StageView>& stages) {
  std::string items;
  std::size_t skipped = 0;
  for (const auto& s : stages) {
    if (s.status == "failed")
      items += "<li><b>" + escape(s.id) + "</b>" + (s.type.empty() ? "" : " (" + escape(s.type) + ")") + ": " + escape(s.message) + "</li>";
    skipped += s.status == "skipped";
  }
  if (items.empty()) return {};
  return "<section id=\"failures\"><h2>What failed</h2><ul class=\"failures\">" + items + "</ul>" +
         (skipped ? "<p>" + std::to_string(skipped) + (skipped == 1 ? " stage was" : " stages were") + " skipped: they needed a stage that failed.</p>" : "") +
         "</section>";
}

// The results as printed; of a sweep's summary only the means over seeds (the trials have their
// own table below).
std::string results_section(const RunRecord& r, bool sweep) {
  std::string text = r.results;
  if (sweep && text.find("\n\n") != std::string::npos) text = text.substr(text.rfind("\n\n") + 2);
  if (text.empty()) return {};
  return "<section id=\"results\"><h2>Results</h2><pre>" + escape(text) + "</pre></section>";
}

// Stages whose metrics hold arms (maps with an accuracy), as a comparison stage's do.
std::string comparison_section(const std::vector<StageView>& stages, bool sweep) {
  std::string out;
  std::size_t drawn = 0, more = 0;
  for (const auto& s : stages) {
    BarChart chart;
    chart.kind = "comparison";
    chart.title = "Arms of " + s.id + " (" + s.type + ")";
    chart.value_label = "score (0 to 1)";
    std::vector<std::string> keys;
    for (const char* k : {"accuracy", "macro_f1", "balanced_accuracy"}) keys.push_back(k);
    std::set<std::string> present;
    if (!s.metrics.is_map()) continue;
    for (const auto& [arm, v] : s.metrics.entries())
      if (v.is_map() && at(v, "accuracy") && at(v, "accuracy")->is_number())
        for (const auto& k : keys)
          if (at(v, k.c_str()) && at(v, k.c_str())->is_number()) present.insert(k);
    if (present.empty()) continue;
    if (sweep && drawn >= 3) {  // a sweep has its own charts; a few trials' arms suffice here
      ++more;
      continue;
    }
    for (const auto& k : keys)
      if (present.count(k)) chart.series.push_back(k);
    for (const auto& [arm, v] : s.metrics.entries()) {
      if (!v.is_map() || !at(v, "accuracy")) continue;
      BarGroup g{arm, {}};
      for (const auto& k : chart.series) g.values.push_back(num_at(v, k.c_str()));
      chart.groups.push_back(g);
    }
    out += render(chart);
    ++drawn;
  }
  if (out.empty()) return {};
  return "<section id=\"comparison\"><h2>Comparison</h2><div class=\"charts\">" + out + "</div>" +
         (more ? "<p>" + std::to_string(more) + " more comparisons (one per trial) are in metrics.json.</p>" : "") + "</section>";
}

// Per training stage (instances of a sweep together): loss and accuracy per epoch, training and
// validation, and the learning rate when it changes.
std::string learning_curves_section(const std::vector<StageView>& stages) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const StageView*>> groups;
  for (const auto& s : stages) {
    const Value* epochs = at(s.metrics, "epochs");
    if (!epochs || !epochs->is_list() || epochs->size() == 0) continue;
    const std::string base = base_id(s.id);
    if (!groups.count(base)) order.push_back(base);
    groups[base].push_back(&s);
  }
  if (order.empty()) return {};
  std::string out = "<section id=\"learning-curves\"><h2>Learning curves</h2>";
  for (const auto& base : order) {
    const auto& members = groups[base];
    const bool several = members.size() > 1;
    out += "<h3>" + escape(base) + " (" + escape(members.front()->type) + (several ? ", " + std::to_string(members.size()) + " instances" : "") +
           ")</h3><div class=\"charts\">";
    for (const auto& [what, label, from_zero] : std::vector<std::tuple<std::string, std::string, bool>>{
             {"loss", "loss (cross-entropy)", true}, {"accuracy", "accuracy (0 to 1)", false}, {"lr", "learning rate", true}}) {
      LineChart chart;
      chart.kind = "learning-curve";
      chart.title = base + ": " + (what == "lr" ? "learning rate" : what) + " per epoch";
      chart.x_label = "epoch";
      chart.x_integers = true;
      chart.y_label = label;
      chart.y_from_zero = from_zero;
      bool varies = false;
      for (const StageView* s : members) {
        if (chart.series.size() >= max_series_per_chart) {
          chart.total_series += what == "lr" ? 1 : 1 + (at(at(s->metrics, "epochs")->items().front(), ("validation_" + what).c_str()) != nullptr);
          continue;
        }
        const auto& epochs = at(s->metrics, "epochs")->items();
        for (const std::string& part : {std::string(""), std::string("validation_")}) {
          if (what == "lr" && !part.empty()) continue;
          Series series;
          series.name = (several ? s->id + " " : "") + (what == "lr" ? "learning rate" : part.empty() ? "training" : "validation");
          series.dashed = !part.empty();
          for (std::size_t e = 0; e < epochs.size(); ++e) {
            const double y = num_at(epochs[e], (part + what).c_str());
            double x = num_at(epochs[e], "epoch");
            if (std::isnan(x)) x = static_cast<double>(e + 1);
            if (!std::isnan(y)) series.points.push_back({x, y, 0});
          }
          for (const auto& p : series.points) varies = varies || p.y != series.points.front().y;
          if (!series.points.empty()) chart.series.push_back(std::move(series));
        }
      }
      chart.total_series += chart.series.size();
      if (chart.series.empty() || (what == "lr" && !varies)) continue;
      out += render(chart);
    }
    out += "</div>";
  }
  return out + "</section>";
}

// Per evaluation: the confusion matrix as a heatmap with the class names, and precision and
// recall per class.
std::string evaluations_section(const std::vector<StageView>& stages) {
  std::string out;
  std::size_t drawn = 0, more = 0;
  for (const auto& s : stages) {
    const Value* confusion = at(s.metrics, "confusion");
    const Value* per_class = at(s.metrics, "per_class");
    if (!confusion || !confusion->is_list() || !per_class || !per_class->is_map()) continue;
    if (drawn == max_evaluations_drawn) {
      ++more;
      continue;
    }
    ++drawn;
    Heatmap map;
    map.kind = "confusion";
    map.title = s.id + ": confusion matrix";
    map.row_label = "true class";
    map.column_label = "predicted class";
    for (const auto& [name, _] : per_class->entries()) map.labels.push_back(name);
    for (const auto& row : confusion->items()) {
      std::vector<double> cells;
      if (row.is_list())
        for (const auto& c : row.items()) cells.push_back(c.is_number() ? c.as_float() : 0);
      map.cells.push_back(cells);
    }
    while (map.labels.size() < map.cells.size()) map.labels.push_back(std::to_string(map.labels.size()));
    std::string drawn_charts;
    if (map.labels.size() <= max_heatmap_classes) drawn_charts += render(map);
    BarChart bars;
    bars.kind = "per-class";
    bars.title = s.id + ": precision and recall per class";
    bars.value_label = "precision, recall (0 to 1)";
    bars.series = {"precision", "recall"};
    for (const auto& [name, row] : per_class->entries()) bars.groups.push_back({name, {num_at(row, "precision"), num_at(row, "recall")}});
    char line[160];
    std::snprintf(line, sizeof line, "accuracy %s, macro-F1 %s, balanced accuracy %s", format_number(num_at(s.metrics, "accuracy")).c_str(),
                  format_number(num_at(s.metrics, "macro_f1")).c_str(), format_number(num_at(s.metrics, "balanced_accuracy")).c_str());
    if (bars.groups.size() <= 2 * max_heatmap_classes) drawn_charts += render(bars);
    const std::string note = map.labels.size() > max_heatmap_classes
                                 ? "<p>" + std::to_string(map.labels.size()) + " classes: the confusion matrix is in metrics.json (<code>confusion</code>), "
                                   "not drawn.</p>"
                                 : "";
    out += "<h3>" + escape(s.id) + " (" + escape(s.type) + ")</h3><p>" + escape(line) + "</p>" + note + "<div class=\"charts\">" + drawn_charts +
           "</div>";
  }
  if (out.empty()) return {};
  return "<section id=\"evaluations\"><h2>Evaluations</h2>" + out +
         (more ? "<p>" + std::to_string(more) + " more evaluations are in metrics.json (their stages' <code>confusion</code> and "
                                                 "<code>per_class</code>).</p>"
               : "") +
         "</section>";
}

// summary.csv's rows (a small CSV reader: quoted fields with "" escapes).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') quoted = true;
    else if (c == ',') row.push_back(std::move(field)), field.clear();
    else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else if (c != '\r') field += c;
  }
  if (!field.empty() || !row.empty()) row.push_back(field), rows.push_back(row);
  return rows;
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  std::istringstream in(s);
  in >> out;
  return in && in.peek() == EOF && std::isfinite(out);
}

// A sweep: every reported metric against every grid parameter, a line per arm (and per value
// of the other parameters), mean ± standard deviation over the seeds; then the per-trial table.
std::string sweep_section(const RunRecord& r) {
  const auto rows = parse_csv(r.summary_csv);
  if (rows.size() < 2) return {};
  const auto& head = rows.front();
  const auto seed_at = std::find(head.begin(), head.end(), "seed") - head.begin();
  const auto status_at = std::find(head.begin(), head.end(), "status") - head.begin();
  // The layout record.cpp writes: trial, the grid labels, seed, status, the metrics.
  if (head.empty() || head.front() != "trial" || seed_at < 1 || status_at <= seed_at || static_cast<std::size_t>(status_at) >= head.size()) return {};
  std::vector<std::size_t> label_columns, metric_columns;
  for (std::size_t c = 1; c < static_cast<std::size_t>(seed_at); ++c) label_columns.push_back(c);
  for (std::size_t c = static_cast<std::size_t>(status_at) + 1; c < head.size(); ++c) metric_columns.push_back(c);
  std::string charts;
  // Metrics by their last part (accuracy, macro_f1); the rest of the path names the arm.
  std::vector<std::string> metric_names;
  std::map<std::string, std::vector<std::size_t>> by_metric;
  auto arm_of = [](const std::string& path) {
    const auto last = path.rfind('.');
    std::string arm = last == std::string::npos ? path : path.substr(0, last);
    const auto first = arm.find('.');
    return first == std::string::npos ? arm : arm.substr(first + 1);  // "comparison.finetune" -> "finetune"
  };
  for (auto c : metric_columns) {
    const std::string name = head[c].substr(head[c].rfind('.') == std::string::npos ? 0 : head[c].rfind('.') + 1);
    if (!by_metric.count(name)) metric_names.push_back(name);
    by_metric[name].push_back(c);
  }
  // Seeds only, no grid: each metric per arm, mean ± std over the seeds.
  if (label_columns.empty())
    for (const auto& metric : metric_names) {
      LineChart chart;
      chart.kind = "sweep";
      chart.title = metric + " per arm";
      chart.x_label = "arm";
      chart.y_label = metric + " (mean ± std over seeds)";
      Series s;
      s.name = metric;
      s.markers_only = true;
      for (auto c : by_metric[metric]) {
        std::vector<double> ys;
        for (std::size_t i = 1; i < rows.size(); ++i) {
          double y;
          if (rows[i].size() > c && rows[i][static_cast<std::size_t>(status_at)] == "done" && parse_double(rows[i][c], y)) ys.push_back(y);
        }
        chart.x_categories.push_back(arm_of(head[c]));
        if (ys.empty()) continue;
        double mean = 0, var = 0;
        for (double y : ys) mean += y;
        mean /= static_cast<double>(ys.size());
        for (double y : ys) var += (y - mean) * (y - mean);
        s.points.push_back({static_cast<double>(chart.x_categories.size() - 1), mean,
                            ys.size() > 1 ? std::sqrt(var / static_cast<double>(ys.size() - 1)) : 0});
      }
      chart.series.push_back(std::move(s));
      if (!chart.series.front().points.empty()) charts += render(chart);
    }
  for (auto p : label_columns) {
    // The parameter's values in order: numerically when they all are numbers.
    std::vector<std::string> values;
    for (std::size_t i = 1; i < rows.size(); ++i)
      if (p < rows[i].size() && std::find(values.begin(), values.end(), rows[i][p]) == values.end()) values.push_back(rows[i][p]);
    bool numeric = true;
    std::map<std::string, double> number_of;
    for (const auto& v : values) {
      double d = 0;
      numeric = numeric && parse_double(v, d);
      number_of[v] = d;
    }
    if (numeric)
      std::sort(values.begin(), values.end(), [&](const std::string& a, const std::string& b) { return number_of[a] < number_of[b]; });
    for (const auto& metric : metric_names) {
      LineChart chart;
      chart.kind = "sweep";
      chart.title = metric + " against " + head[p];
      chart.x_label = head[p];
      chart.y_label = metric + " (mean ± std over seeds)";
      if (!numeric) chart.x_categories = values;
      for (auto c : by_metric[metric]) {
        // One line per arm and per combination of the other parameters' values.
        std::vector<std::string> combos;
        std::map<std::string, std::map<std::string, std::vector<double>>> samples;  // combo -> value of p -> metric values
        for (std::size_t i = 1; i < rows.size(); ++i) {
          const auto& row = rows[i];
          if (row.size() <= c || row.size() <= p || row[static_cast<std::size_t>(status_at)] != "done") continue;
          double y;
          if (!parse_double(row[c], y)) continue;
          std::string combo;
          for (auto q : label_columns)
            if (q != p && q < row.size()) combo += (combo.empty() ? "" : ", ") + head[q] + "=" + row[q];
          if (!samples.count(combo)) combos.push_back(combo);
          samples[combo][row[p]].push_back(y);
        }
        for (const auto& combo : combos) {
          if (chart.series.size() >= max_series_per_chart) break;
          Series s;
          s.name = arm_of(head[c]) + (combo.empty() ? "" : " (" + combo + ")");
          for (std::size_t k = 0; k < values.size(); ++k) {
            auto it = samples[combo].find(values[k]);
            if (it == samples[combo].end() || it->second.empty()) continue;
            const auto& ys = it->second;
            double mean = 0, var = 0;
            for (double y : ys) mean += y;
            mean /= static_cast<double>(ys.size());
            for (double y : ys) var += (y - mean) * (y - mean);
            const double sd = ys.size() > 1 ? std::sqrt(var / static_cast<double>(ys.size() - 1)) : 0;
            s.points.push_back({numeric ? number_of[values[k]] : static_cast<double>(k), mean, sd});
          }
          if (!s.points.empty()) chart.series.push_back(std::move(s));
        }
      }
      if (!chart.series.empty()) charts += render(chart);
    }
  }
  std::string table = "<div class=\"scroll\"><table class=\"trials\"><thead><tr>";
  for (std::size_t c = 0; c < head.size(); ++c) table += "<th" + std::string(c == static_cast<std::size_t>(status_at) ? " class=\"text\"" : "") + ">" + escape(head[c]) + "</th>";
  table += "</tr></thead><tbody>";
  for (std::size_t i = 1; i < rows.size() && i <= max_trial_rows; ++i) {
    table += "<tr>";
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      double d;
      const bool number = parse_double(rows[i][c], d);
      const bool metric = c > static_cast<std::size_t>(status_at);
      table += std::string(number ? "<td>" : "<td class=\"text\">") + escape(number && metric ? format_number(d, 4) : rows[i][c]) + "</td>";
    }
    table += "</tr>";
  }
  table += "</tbody></table></div>";
  const std::size_t trials = rows.size() - 1;
  return "<section id=\"sweep\"><h2>Sweep</h2><p>" + std::to_string(trials) + (trials == 1 ? " trial" : " trials") +
         "; error bars are one standard deviation over the seeds of each grid point (finished trials only).</p><div class=\"charts\">" + charts +
         "</div><h3>Trials</h3>" + table +
         (trials > max_trial_rows ? "<p>" + std::to_string(trials - max_trial_rows) + " more trials are in summary.csv.</p>" : "") + "</section>";
}

std::string timeline_section(const RunRecord& r, const std::vector<StageView>& stages) {
  if (!r.timings.is_map()) return {};
  double first = INFINITY;
  for (const auto& [_, t] : r.timings.entries())
    if (double s = num_at(t, "started"); !std::isnan(s) && s > 0) first = std::min(first, s);
  if (!std::isfinite(first)) return {};
  std::map<std::string, std::string> status;
  for (const auto& s : stages) status[s.id] = s.status;
  std::vector<TimelineBar> bars;
  for (const auto& [id, t] : r.timings.entries()) {
    const double started = num_at(t, "started");
    if (std::isnan(started)) continue;
    TimelineBar b;
    b.label = id;
    b.status = status.count(id) ? status[id] : "done";
    b.start = started - first;
    b.seconds = std::max(0.0, num_at(t, "seconds"));
    if (const Value* job = at(t, "slurm_job")) {
      b.lane = "Slurm job " + (job->is_string() ? job->as_string() : job->str());
      if (const std::string node = str_at(t, "node"); !node.empty()) b.lane += " (" + node + ")";
    } else {
      const double thread = num_at(t, "thread");
      b.lane = std::isnan(thread) ? "coordinator" : "thread " + format_number(thread, 6);
    }
    bars.push_back(b);
  }
  return "<section id=\"timeline\"><h2>Timeline</h2><p>Each stage on the thread or Slurm job that ran it; hover a bar for its duration.</p>"
         "<div class=\"scroll\">" + render_timeline(bars) + "</div></section>";
}

std::string lock_section(const RunRecord& r) {
  if (!r.lock.is_map()) return {};
  std::string rows;
  for (const auto& [path, v] : flatten(r.lock))
    rows += "<tr><td class=\"text\"><code>" + escape(path) + "</code></td><td class=\"text\">" + escape(v.is_string() ? v.as_string() : v.str()) +
            "</td></tr>";
  return "<section id=\"lock\"><h2>Lock information</h2><p>What produced these results: plugin binaries with their SHA-256, library versions, "
         "threads, seeds and content keys (<code>lock.json</code>).</p><details><summary>Show the lock file</summary><div class=\"scroll\"><table>" +
         rows + "</table></div></details></section>";
}

}  // namespace

std::string html_report(const RunRecord& r) {
  const auto stages = stages_of(r);
  const bool sweep = !r.summary_csv.empty();
  const std::string sections[] = {failures_section(stages), results_section(r, sweep),        dag_section(r, stages),  comparison_section(stages, sweep),
                                  sweep ? sweep_section(r) : std::string(), learning_curves_section(stages), evaluations_section(stages),
                                  timeline_section(r, stages), lock_section(r)};
  std::string nav;
  for (const auto& [id, name] : std::vector<std::pair<std::string, std::string>>{{"failures", "What failed"}, {"results", "Results"}, {"dag", "Stages"},
                                                                                 {"comparison", "Comparison"}, {"sweep", "Sweep"},
                                                                                 {"learning-curves", "Learning curves"}, {"evaluations", "Evaluations"},
                                                                                 {"timeline", "Timeline"}, {"lock", "Lock"}})
    for (const auto& s : sections)
      if (s.find("<section id=\"" + id + "\"") == 0) nav += "<a href=\"#" + id + "\">" + name + "</a>";
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width\"/>"
                     "<title>" + escape(r.experiment + " " + r.run_id) + "</title><style>" + css + "</style></head><body>" + header(r) +
                     "<nav>" + nav + "</nav>";
  for (const auto& s : sections) html += s;
  html += "<footer><p class=\"meta\">Made by pipeline from " + escape(r.dir.string()) + ".</p></footer></body></html>\n";
  return html;
}

void write_html_report(const RunRecord& record, const std::filesystem::path& file) {
  const std::string html = html_report(record);
  write_file_atomic(file, [&](std::ostream& out) { out << html; });
}

}  // namespace pipeline::report
