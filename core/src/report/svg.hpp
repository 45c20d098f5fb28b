// Charts as inline SVG for report.html: no JavaScript, no external resources. Each chart is an
// <svg class="chart" data-chart=KIND> with its series as <g class="series" data-series=NAME> and
// its points as elements of class "point" carrying data-x/data-y, so a test (or a script of the
// user's) can read back what is drawn. Sizes adapt to the number of series, classes and lanes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipeline::report {

// Text and attribute values escaped for HTML and XML alike.
std::string escape(std::string_view text);
// At most max_bytes of s, never cutting a UTF-8 character in two.
std::string shorten(std::string_view s, std::size_t max_bytes);
// A number as a person reads it: up to `digits` significant digits, no trailing zeros.
std::string format_number(double value, int digits = 4);

struct Point {
  double x = 0, y = 0;
  double error = 0;  // half-height of an error bar (a standard deviation); 0: none
};
struct Series {
  std::string name;
  std::vector<Point> points;
  bool dashed = false;  // e.g. validation next to training
  bool markers_only = false;  // points and error bars, no line (categories that are not a scale)
};
struct LineChart {
  std::string kind;  // data-chart
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::vector<std::string> x_categories;  // when set, x is an index into these
  bool y_from_zero = false;
  bool x_integers = false;  // ticks only at whole numbers (epochs)
  std::size_t total_series = 0;  // when more than series.size(): only the first ones are drawn
};
std::string render(const LineChart& chart);

struct Heatmap {
  std::string kind, title, row_label, column_label;
  std::vector<std::string> labels;         // rows and columns (a confusion matrix is square)
  std::vector<std::vector<double>> cells;  // [row][column]
};
std::string render(const Heatmap& map);

struct BarGroup {
  std::string label;
  std::vector<double> values;  // one per series
};
struct BarChart {
  std::string kind, title, value_label;
  std::vector<std::string> series;
  std::vector<BarGroup> groups;  // one row of bars each
  double max = 1;                // the value axis runs from 0 to this
};
std::string render(const BarChart& chart);

struct TimelineBar {
  std::string lane;   // "thread 1", "Slurm job 84 (node17)"
  std::string label;  // the stage id
  std::string status;  // done, cached, failed, skipped, cancelled
  double start = 0, seconds = 0;  // since the run started
};
std::string render_timeline(const std::vector<TimelineBar>& bars);

struct DagNode {
  std::string id, type, status;  // status as in TimelineBar
};
struct DagEdge {
  std::size_t from = 0, to = 0;
};
std::string render_dag(const std::vector<DagNode>& nodes, const std::vector<DagEdge>& edges);

// The fill colour of a stage status, shared by the DAG, the timeline and their legends.
const char* status_colour(const std::string& status);

}  // namespace pipeline::report
