#include "report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>

namespace pipeline::report {
namespace {

// Tableau 10: distinguishable, and readable on white.
const char* const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
const char* colour(std::size_t i) { return palette[i % 10]; }

// A coordinate: always a finite number SVG accepts, however wild the data (far outside the
// canvas is still outside it).
std::string num(double v) {
  if (std::isnan(v)) v = 0;
  v = std::clamp(v, -1e6, 1e6);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// About `count` round tick values covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int count = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(hi - lo)) return {};  // nothing sensible to mark
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / count;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  // Multiples of the step, computed each from its index so no rounding error accumulates.
  const long long first = static_cast<long long>(std::ceil(lo / step - 1e-9));
  for (long long i = first; ticks.size() < 50; ++i) {
    const double t = static_cast<double>(i) * step;
    if (t > hi + step * 1e-9) break;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

// Ticks on a value axis: round values from one at or below lo to one at or above hi, so the
// data never runs past the last labelled line.
std::vector<double> covering_ticks(double lo, double hi, int count = 5) {
  auto ticks = nice_ticks(lo, hi, count);
  if (ticks.empty()) return {lo, hi};
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : std::max(hi - lo, 1.0);
  if (ticks.empty() || ticks.front() > lo + step * 1e-9) ticks.insert(ticks.begin(), (ticks.empty() ? hi : ticks.front()) - step);
  if (ticks.back() < hi - step * 1e-9) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string text(double x, double y, const std::string& s, const char* anchor = "middle", const char* extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" + escape(s) + "</text>";
}

std::string open_svg(const std::string& kind, double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"" + escape(kind) + "\" width=\"" + num(width) +
         "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\" role=\"img\" aria-label=\"" +
         escape(title) + "\"><title>" + escape(title) + "</title>";
}

// Legend entries in rows under the title; returns the height used.
double legend(std::string& out, const std::vector<std::pair<std::string, std::string>>& entries, double x0, double y0, double width,
              const std::vector<bool>& dashed = {}) {
  double x = x0, y = y0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const double w = 22 + 6.5 * static_cast<double>(std::min<std::size_t>(entries[i].first.size(), 40)) + 14;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      y += 16;
    }
    const bool dash = i < dashed.size() && dashed[i];
    out += "<g class=\"legend-entry\"><line x1=\"" + num(x) + "\" y1=\"" + num(y - 4) + "\" x2=\"" + num(x + 16) + "\" y2=\"" + num(y - 4) +
           "\" stroke=\"" + entries[i].second + "\" stroke-width=\"3\"" + (dash ? " stroke-dasharray=\"4 3\"" : "") + "/>" +
           text(x + 20, y, shorten(entries[i].first, 40), "start") + "</g>";
    x += w;
  }
  return y - y0 + 16;
}

}  // namespace

namespace {

// The length of the valid UTF-8 sequence at s[i] that XML allows (no surrogates, no U+FFFE or
// U+FFFF, nothing past U+10FFFF, no overlong forms), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  std::uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) return 0;
  return n;
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Any byte sequence XML does not allow (invalid UTF-8, a non-character) shows as U+FFFD.
      const std::size_t n = utf8_sequence(s, i);
      if (n) out.append(s.substr(i, n));
      else out += "&#xFFFD;";
      i += n ? n : 1;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML: shown as a replacement.
        if (c < 0x20 && c != '\n' && c != '\t') out += "&#xFFFD;";
        else out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string shorten(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return std::string(s.substr(0, end));
}

std::string format_number(double v, int digits) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

const char* status_colour(const std::string& status) {
  if (status == "done") return "#59a14f";
  if (status == "cached") return "#76b7b2";
  if (status == "failed" || status == "FAILED") return "#e15759";
  if (status == "skipped") return "#bab0ac";
  return "#e8e8e8";  // cancelled, not run, unknown
}

std::string render(const LineChart& c) {
  const double width = 540, plot_left = 64, plot_right = 16;
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<bool> dashed;
  const bool many = c.series.size() > 12;  // then one legend line says how many
  if (many)
    entries.emplace_back((c.total_series > c.series.size() ? "the first " + std::to_string(c.series.size()) + " of " + std::to_string(c.total_series)
                                                            : std::to_string(c.series.size())) +
                             " series (hover a line for its name)",
                         "#888888");
  else
    for (std::size_t i = 0; i < c.series.size(); ++i) {
      entries.emplace_back(c.series[i].name, colour(c.series[i].dashed && i > 0 ? i - 1 : i));
      dashed.push_back(c.series[i].dashed);
    }
  std::string legend_svg;
  const double legend_height = legend(legend_svg, entries, plot_left, 40, width - plot_left - plot_right, dashed);
  const double plot_top = 40 + legend_height + 6, plot_height = 220;
  // Many categories: their labels slant, and take room below the axis.
  const bool slanted = c.x_categories.size() > 4;
  std::size_t longest_category = 0;
  for (const auto& cat : c.x_categories) longest_category = std::max(longest_category, std::min<std::size_t>(cat.size(), 24));
  const double below = slanted ? 20 + 4.2 * static_cast<double>(longest_category) : 0;
  const double height = plot_top + plot_height + 52 + below;
  const double plot_width = width - plot_left - plot_right;

  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      xlo = std::min(xlo, p.x);
      xhi = std::max(xhi, p.x);
      ylo = std::min(ylo, p.y - p.error);
      yhi = std::max(yhi, p.y + p.error);
    }
  if (!c.x_categories.empty()) {
    xlo = -0.5;
    xhi = static_cast<double>(c.x_categories.size()) - 0.5;
  }
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1;
  if (!std::isfinite(ylo)) ylo = 0, yhi = 1;
  if (c.y_from_zero) ylo = std::min(0.0, ylo);
  if (xhi == xlo) xlo -= 0.5, xhi += 0.5;
  if (yhi == ylo) ylo -= std::max(std::abs(ylo) * 0.1, 0.05), yhi += std::max(std::abs(yhi) * 0.1, 0.05);
  if (!std::isfinite(yhi - ylo)) ylo = -1, yhi = 1;  // values at the edge of double: no scale fits them
  if (!std::isfinite(xhi - xlo)) xlo = -1, xhi = 1;
  const auto yticks = covering_ticks(ylo, yhi);
  ylo = std::min(ylo, yticks.front());
  yhi = std::max(yhi, yticks.back());
  auto X = [&](double x) { return plot_left + (x - xlo) / (xhi - xlo) * plot_width; };
  auto Y = [&](double y) { return plot_top + plot_height - (y - ylo) / (yhi - ylo) * plot_height; };

  std::string out = open_svg(c.kind, width, height, c.title);
  out += text(width / 2, 20, c.title, "middle", " class=\"chart-title\"");
  out += legend_svg;
  // Axes, grid and tick labels.
  out += "<g class=\"axis y-axis\">";
  for (double t : yticks)
    out += "<line x1=\"" + num(plot_left) + "\" y1=\"" + num(Y(t)) + "\" x2=\"" + num(plot_left + plot_width) + "\" y2=\"" + num(Y(t)) +
           "\" class=\"grid\"/>" + text(plot_left - 6, Y(t) + 4, format_number(t, 3), "end");
  out += "</g><g class=\"axis x-axis\">";
  if (!c.x_categories.empty()) {
    const std::size_t every = std::max<std::size_t>(1, c.x_categories.size() / 24);
    for (std::size_t i = 0; i < c.x_categories.size(); i += every) {
      if (slanted)
        out += "<text text-anchor=\"end\" transform=\"translate(" + num(X(static_cast<double>(i)) + 4) + " " + num(plot_top + plot_height + 12) +
               ") rotate(-40)\">" + escape(shorten(c.x_categories[i], 24)) + "</text>";
      else
        out += text(X(static_cast<double>(i)), plot_top + plot_height + 16, shorten(c.x_categories[i], 14));
    }
  } else {
    for (double t : nice_ticks(xlo, xhi, 6))
      if (!c.x_integers || std::abs(t - std::round(t)) < 1e-9)
        out += "<line x1=\"" + num(X(t)) + "\" y1=\"" + num(plot_top + plot_height) + "\" x2=\"" + num(X(t)) + "\" y2=\"" +
             num(plot_top + plot_height + 4) + "\" class=\"tick\"/>" + text(X(t), plot_top + plot_height + 16, format_number(t, 4));
  }
  out += "</g>";
  out += "<rect x=\"" + num(plot_left) + "\" y=\"" + num(plot_top) + "\" width=\"" + num(plot_width) + "\" height=\"" + num(plot_height) +
         "\" class=\"frame\"/>";
  out += text(plot_left + plot_width / 2, height - 10, c.x_label, "middle", " class=\"axis-label\"");
  out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(14 " + num(plot_top + plot_height / 2) + ") rotate(-90)\">" +
         escape(c.y_label) + "</text>";
  // Series: a polyline, error bars, and a circle per point.
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    const std::string col = many ? colour(i) : colour(s.dashed && i > 0 ? i - 1 : i);
    out += "<g class=\"series\" data-series=\"" + escape(s.name) + "\"><title>" + escape(s.name) + "</title>";
    std::string path;
    for (const auto& p : s.points)
      if (std::isfinite(p.x) && std::isfinite(p.y)) path += (path.empty() ? "" : " ") + num(X(p.x)) + "," + num(Y(p.y));
    if (!s.markers_only)
      out += "<polyline points=\"" + path + "\" fill=\"none\" stroke=\"" + col + "\" stroke-width=\"" + (many ? "1" : "2") + "\"" +
           (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    for (const auto& p : s.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      if (p.error > 0)
        out += "<path class=\"error-bar\" d=\"M" + num(X(p.x)) + " " + num(Y(p.y - p.error)) + "V" + num(Y(p.y + p.error)) + "M" +
               num(X(p.x) - 4) + " " + num(Y(p.y - p.error)) + "h8M" + num(X(p.x) - 4) + " " + num(Y(p.y + p.error)) + "h8\" stroke=\"" +
               col + "\"/>";
      const std::string xs = c.x_categories.empty() ? format_number(p.x, 6)
                                                    : c.x_categories[std::min<std::size_t>(static_cast<std::size_t>(std::max(0.0, p.x)), c.x_categories.size() - 1)];
      out += "<circle class=\"point\" cx=\"" + num(X(p.x)) + "\" cy=\"" + num(Y(p.y)) + "\" r=\"" + (many ? "1.5" : "3") + "\" fill=\"" + col +
             "\" data-x=\"" + escape(xs) + "\" data-y=\"" + format_number(p.y, 6) + "\"" +
             (p.error > 0 ? " data-error=\"" + format_number(p.error, 6) + "\"" : std::string()) + "><title>" + escape(s.name) + ": " +
             escape(xs) + ", " + format_number(p.y, 4) + (p.error > 0 ? " ± " + format_number(p.error, 3) : "") + "</title></circle>";
    }
    out += "</g>";
  }
  return out + "</svg>";
}

std::string render(const Heatmap& m) {
  const std::size_t n = m.labels.size();
  // Cells no smaller than a label's line, so every class is named, however many there are.
  const double cell = std::clamp(560.0 / static_cast<double>(std::max<std::size_t>(n, 1)), 12.0, 44.0);
  const bool show_labels = true, show_counts = cell >= 26;
  std::size_t longest = 0;
  for (const auto& l : m.labels) longest = std::max(longest, std::min<std::size_t>(l.size(), 18));
  const double left = 30 + (show_labels ? 6.5 * static_cast<double>(longest) + 8 : 0), top = 40;
  const double side = cell * static_cast<double>(n);
  const double bottom_labels = show_labels ? 6.0 * static_cast<double>(longest) + 16 : 10;
  const double width = left + side + 90, height = top + side + bottom_labels + 24;
  double max = 0;
  for (const auto& row : m.cells)
    for (double v : row) max = std::max(max, v);
  std::string out = open_svg(m.kind, width, height, m.title);
  out += text(width / 2, 20, m.title, "middle", " class=\"chart-title\"");
  for (std::size_t r = 0; r < n && r < m.cells.size(); ++r)
    for (std::size_t c = 0; c < n && c < m.cells[r].size(); ++c) {
      const double v = m.cells[r][c], t = max > 0 && std::isfinite(v) ? std::clamp(v / max, 0.0, 1.0) : 0;
      // White to blue: more is darker; the diagonal is read the same as the rest.
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x", static_cast<int>(255 - t * (255 - 33)), static_cast<int>(255 - t * (255 - 102)),
                    static_cast<int>(255 - t * (255 - 172)));
      const double x = left + cell * static_cast<double>(c), y = top + cell * static_cast<double>(r);
      out += "<rect class=\"cell point\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(cell) + "\" height=\"" + num(cell) +
             "\" fill=\"" + fill + "\" data-x=\"" + escape(m.labels[c]) + "\" data-y=\"" + escape(m.labels[r]) + "\" data-value=\"" +
             format_number(v, 8) + "\"><title>true " + escape(m.labels[r]) + ", predicted " + escape(m.labels[c]) + ": " +
             format_number(v, 8) + "</title></rect>";
      if (show_counts && v != 0)
        out += text(x + cell / 2, y + cell / 2 + 4, format_number(v, 6), "middle", t > 0.55 ? " class=\"on-dark\"" : "");
    }
  if (show_labels)
    for (std::size_t i = 0; i < n; ++i) {
      const std::string l = shorten(m.labels[i], 18);
      out += text(left - 6, top + cell * (static_cast<double>(i) + 0.5) + 4, l, "end");
      const double x = left + cell * (static_cast<double>(i) + 0.5), y = top + side + 8;
      out += "<text text-anchor=\"end\" transform=\"translate(" + num(x + 4) + " " + num(y) + ") rotate(-60)\">" + escape(l) + "</text>";
    }
  out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(14 " + num(top + side / 2) + ") rotate(-90)\">" +
         escape(m.row_label) + "</text>";
  out += text(left + side / 2, height - 6, m.column_label, "middle", " class=\"axis-label\"");
  // The colour scale.
  out += "<defs><linearGradient id=\"scale-" + escape(m.kind) + "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\"><stop offset=\"0\" stop-color=\"#ffffff\"/>"
         "<stop offset=\"1\" stop-color=\"#2166ac\"/></linearGradient></defs>";
  out += "<rect x=\"" + num(left + side + 16) + "\" y=\"" + num(top) + "\" width=\"12\" height=\"" + num(std::max(side, 40.0)) +
         "\" fill=\"url(#scale-" + escape(m.kind) + ")\" class=\"frame\"/>" + text(left + side + 32, top + 10, format_number(max, 6), "start") +
         text(left + side + 32, top + std::max(side, 40.0), "0", "start");
  return out + "</svg>";
}

std::string render(const BarChart& b) {
  const double bar = 10, gap = 8;
  std::size_t longest = 0;
  for (const auto& g : b.groups) longest = std::max(longest, std::min<std::size_t>(g.label.size(), 24));
  const double left = 12 + 6.5 * static_cast<double>(longest) + 8, width = 540, plot_width = width - left - 24;
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t i = 0; i < b.series.size(); ++i) entries.emplace_back(b.series[i], colour(i));
  std::string legend_svg;
  const double top = 40 + legend(legend_svg, entries, left, 40, plot_width) + 6;
  const double group_height = bar * static_cast<double>(std::max<std::size_t>(b.series.size(), 1)) + gap;
  const double plot_height = group_height * static_cast<double>(b.groups.size());
  const double height = top + plot_height + 44;
  const double max = b.max > 0 ? b.max : 1;
  auto X = [&](double v) { return left + std::clamp(v / max, 0.0, 1.0) * plot_width; };
  std::string out = open_svg(b.kind, width, height, b.title);
  out += text(width / 2, 20, b.title, "middle", " class=\"chart-title\"") + legend_svg;
  for (double t : nice_ticks(0, max, 5))
    out += "<line x1=\"" + num(X(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(X(t)) + "\" y2=\"" + num(top + plot_height) + "\" class=\"grid\"/>" +
           text(X(t), top + plot_height + 14, format_number(t, 3));
  for (std::size_t s = 0; s < b.series.size(); ++s) {
    out += "<g class=\"series\" data-series=\"" + escape(b.series[s]) + "\">";
    for (std::size_t g = 0; g < b.groups.size(); ++g) {
      const double v = s < b.groups[g].values.size() ? b.groups[g].values[s] : NAN;
      if (!std::isfinite(v)) continue;
      const double y = top + group_height * static_cast<double>(g) + bar * static_cast<double>(s) + gap / 2;
      out += "<rect class=\"bar point\" x=\"" + num(left) + "\" y=\"" + num(y) + "\" width=\"" + num(X(v) - left) + "\" height=\"" + num(bar - 1) +
             "\" fill=\"" + colour(s) + "\" data-x=\"" + escape(b.groups[g].label) + "\" data-y=\"" + format_number(v, 6) + "\"><title>" +
             escape(b.groups[g].label) + ", " + escape(b.series[s]) + ": " + format_number(v, 4) + "</title></rect>";
    }
    out += "</g>";
  }
  for (std::size_t g = 0; g < b.groups.size(); ++g)
    out += text(left - 6, top + group_height * (static_cast<double>(g) + 0.5) + 4, shorten(b.groups[g].label, 24), "end");
  out += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(top + plot_height) + "\" class=\"frame-line\"/>";
  out += text(left + plot_width / 2, height - 8, b.value_label, "middle", " class=\"axis-label\"");
  return out + "</svg>";
}

std::string render_timeline(const std::vector<TimelineBar>& bars) {
  std::vector<std::string> lanes;
  for (const auto& b : bars)
    if (std::find(lanes.begin(), lanes.end(), b.lane) == lanes.end()) lanes.push_back(b.lane);
  std::sort(lanes.begin(), lanes.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // thread 2 before thread 10
  });
  double end = 0;
  for (const auto& b : bars) end = std::max(end, b.start + b.seconds);
  if (end <= 0) end = 1;
  std::size_t longest = 0;
  for (const auto& l : lanes) longest = std::max(longest, std::min<std::size_t>(l.size(), 28));
  const double left = 12 + 6.5 * static_cast<double>(longest) + 8, width = 900, plot_width = width - left - 20;
  const double lane_height = 22, top = 64, plot_height = lane_height * static_cast<double>(lanes.size());
  const double height = top + plot_height + 44;
  auto X = [&](double t) { return left + t / end * plot_width; };
  std::string out = open_svg("timeline", width, height, "When each stage ran");
  out += text(width / 2, 20, "When each stage ran", "middle", " class=\"chart-title\"");
  std::string legend_svg;
  std::vector<std::pair<std::string, std::string>> entries;
  for (const char* s : {"done", "cached", "failed", "cancelled"}) entries.emplace_back(s, status_colour(s));
  legend(legend_svg, entries, left, 44, plot_width);
  out += legend_svg;
  for (double t : nice_ticks(0, end, 8))
    out += "<line x1=\"" + num(X(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(X(t)) + "\" y2=\"" + num(top + plot_height) + "\" class=\"grid\"/>" +
           text(X(t), top + plot_height + 14, format_number(t, 4));
  for (std::size_t i = 0; i < lanes.size(); ++i)
    out += text(left - 6, top + lane_height * (static_cast<double>(i) + 0.5) + 4, shorten(lanes[i], 28), "end");
  for (const auto& b : bars) {
    const std::size_t lane = static_cast<std::size_t>(std::find(lanes.begin(), lanes.end(), b.lane) - lanes.begin());
    const double x = X(b.start), w = std::max(1.5, X(b.start + b.seconds) - x), y = top + lane_height * static_cast<double>(lane) + 3;
    out += "<rect class=\"stage-bar point\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(lane_height - 6) +
           "\" fill=\"" + status_colour(b.status) + "\" data-x=\"" + format_number(b.start, 6) + "\" data-y=\"" + escape(b.label) +
           "\" data-seconds=\"" + format_number(b.seconds, 6) + "\"><title>" + escape(b.label) + " (" + escape(b.status) + "): " +
           format_number(b.seconds, 3) + " s from " + format_number(b.start, 4) + " s, " + escape(b.lane) + "</title></rect>";
    if (w > 6.5 * static_cast<double>(b.label.size()) + 6) out += text(x + 3, y + lane_height - 10, b.label, "start", " class=\"bar-label\"");
  }
  out += text(left + plot_width / 2, height - 8, "seconds since the run started", "middle", " class=\"axis-label\"");
  return out + "</svg>";
}

std::string render_dag(const std::vector<DagNode>& nodes, const std::vector<DagEdge>& edges) {
  // Layered: a node's column is the longest path to it; within a column, plan order.
  const std::size_t n = nodes.size();
  std::vector<std::size_t> column(n, 0);
  for (int pass = 0; pass < static_cast<int>(n) + 1; ++pass) {
    bool changed = false;
    for (const auto& e : edges)
      if (e.from < n && e.to < n && column[e.to] < column[e.from] + 1) {
        column[e.to] = column[e.from] + 1;
        changed = true;
      }
    if (!changed) break;
  }
  std::map<std::size_t, std::vector<std::size_t>> columns;
  for (std::size_t i = 0; i < n; ++i) columns[column[i]].push_back(i);
  std::size_t tallest = 1;
  for (const auto& [_, members] : columns) tallest = std::max(tallest, members.size());
  const double node_width = 150, node_height = 34, column_gap = 50, row_gap = 10, top = 60;
  const double width = 20 + static_cast<double>(columns.size()) * (node_width + column_gap);
  const double height = top + static_cast<double>(tallest) * (node_height + row_gap) + 20;
  std::vector<double> x(n), y(n);
  for (const auto& [c, members] : columns)
    for (std::size_t r = 0; r < members.size(); ++r) {
      x[members[r]] = 20 + static_cast<double>(c) * (node_width + column_gap);
      // Columns are centred against the tallest one.
      y[members[r]] = top + (static_cast<double>(tallest - members.size()) / 2 + static_cast<double>(r)) * (node_height + row_gap);
    }
  std::string out = open_svg("dag", std::max(width, 420.0), height, "The experiment's stages");
  out += text(std::max(width, 420.0) / 2, 20, "The experiment's stages, by status", "middle", " class=\"chart-title\"");
  std::string legend_svg;
  std::vector<std::pair<std::string, std::string>> entries;
  for (const char* s : {"done", "cached", "failed", "skipped", "cancelled"}) entries.emplace_back(s, status_colour(s));
  legend(legend_svg, entries, 20, 42, std::max(width, 420.0) - 40);
  out += legend_svg;
  out += "<g class=\"edges\">";
  for (const auto& e : edges) {
    if (e.from >= n || e.to >= n) continue;
    const double x1 = x[e.from] + node_width, y1 = y[e.from] + node_height / 2, x2 = x[e.to], y2 = y[e.to] + node_height / 2;
    out += "<path class=\"edge\" d=\"M" + num(x1) + " " + num(y1) + "C" + num(x1 + column_gap / 2) + " " + num(y1) + " " + num(x2 - column_gap / 2) +
           " " + num(y2) + " " + num(x2) + " " + num(y2) + "\" data-from=\"" + escape(nodes[e.from].id) + "\" data-to=\"" + escape(nodes[e.to].id) + "\"/>";
  }
  out += "</g>";
  for (std::size_t i = 0; i < n; ++i) {
    const auto& node = nodes[i];
    const bool pending = node.status != "done" && node.status != "cached" && node.status != "failed";
    out += "<g class=\"node\" data-id=\"" + escape(node.id) + "\" data-status=\"" + escape(node.status) + "\"><title>" + escape(node.id) + " (" +
           escape(node.type) + "): " + escape(node.status) + "</title><rect x=\"" + num(x[i]) + "\" y=\"" + num(y[i]) + "\" width=\"" + num(node_width) +
           "\" height=\"" + num(node_height) + "\" rx=\"5\" fill=\"" + status_colour(node.status) + "\"" +
           (pending ? " stroke-dasharray=\"4 3\"" : "") + "/>" +
           text(x[i] + node_width / 2, y[i] + 14, node.id.size() > 22 ? shorten(node.id, 21) + "…" : node.id, "middle", " class=\"node-id\"") +
           text(x[i] + node_width / 2, y[i] + 27, shorten(node.type, 24), "middle", " class=\"node-type\"") + "</g>";
  }
  return out + "</svg>";
}

}  // namespace pipeline::report
