#include "csv_reader.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <system_error>
#include <unordered_map>

#include "pipeline/error.hpp"
#include "pipeline/tensor.hpp"

namespace pipeline::data {
namespace {

struct Field {
  std::string text;         // without surrounding blanks and quotes
  std::size_t offset = 0;   // byte offset in the line of its first character (the quote, if quoted)
};

bool blank(char c) { return c == ' ' || c == '\t'; }

bool blank_line(std::string_view line) {
  for (char c : line)
    if (!blank(c)) return false;
  return true;
}

// A value as it may be shown in a message: long garbage (a binary file read by mistake) is cut
// short and control bytes are escaped, so the message stays one readable line.
std::string shown(std::string_view text) {
  constexpr std::size_t max_chars = 40;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

// One line of the file, with what is needed to point into it.
class Line {
 public:
  Line(const std::string& file, std::size_t number, std::string_view text)
      : file_(file), number_(number), text_(text) {}

  std::string_view text() const { return text_; }
  std::size_t number() const { return number_; }

  // Editors count characters, not bytes: UTF-8 continuation bytes do not start a column.
  std::size_t column(std::size_t offset) const {
    std::size_t col = 1;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i)
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
    return col;
  }

  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    throw Error(ErrorCode::data_format, file_ + ":" + std::to_string(number_) + ":" +
                                            std::to_string(column(offset)) + ": " + what);
  }
  [[noreturn]] void fail_line(const std::string& what) const {
    throw Error(ErrorCode::data_format, file_ + ":" + std::to_string(number_) + ": " + what);
  }

 private:
  const std::string& file_;
  std::size_t number_;
  std::string_view text_;
};

// Splits a line at commas into fields[0..n), reusing the strings' storage from line to line;
// returns n. A comma inside double quotes belongs to the field.
std::size_t split_fields(const Line& line, std::vector<Field>& fields) {
  const std::string_view s = line.text();
  std::size_t n = 0, i = 0;
  for (;;) {
    if (n == fields.size()) fields.emplace_back();
    Field& f = fields[n++];
    f.text.clear();
    const std::size_t start = i;
    while (i < s.size() && blank(s[i])) ++i;
    if (i < s.size() && s[i] == '"') {
      f.offset = i++;
      for (;;) {
        if (i >= s.size()) line.fail(f.offset, "unterminated quoted field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            f.text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        f.text += s[i++];
      }
      while (i < s.size() && blank(s[i])) ++i;
      if (i < s.size() && s[i] != ',')
        line.fail(i, "unexpected '" + shown(s.substr(i, 1)) + "' after a quoted field");
      // Quoted numbers ("1.5 ") are trimmed like unquoted ones.
      const auto first = f.text.find_first_not_of(" \t");
      f.text.erase(0, first == std::string::npos ? f.text.size() : first);
      while (!f.text.empty() && blank(f.text.back())) f.text.pop_back();
    } else {
      std::size_t end = i;
      while (end < s.size() && s[end] != ',') ++end;
      std::size_t last = end;
      while (last > i && blank(s[last - 1])) --last;
      // An empty field is pointed at where it starts, right after the comma before it.
      f.offset = i < last ? i : start;
      f.text.assign(s.substr(i, last - i));
      i = end;
    }
    if (i >= s.size()) return n;
    ++i;  // the comma
  }
}

enum class Number { ok, empty, invalid, out_of_range, not_finite };

// The whole field must be one number: from_chars alone would accept "1.5abc" as 1.5.
Number parse_number(std::string_view s, double& out) {
  if (s.empty()) return Number::empty;
  // from_chars refuses a leading '+', which spreadsheets write; "+-1" stays invalid.
  if (s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || s.front() == '+' || s.front() == '-') return Number::invalid;
  }
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out, std::chars_format::general);
  if (ptr != end) return Number::invalid;
  if (ec == std::errc::result_out_of_range) return Number::out_of_range;
  if (ec != std::errc()) return Number::invalid;
  if (!std::isfinite(out)) return Number::not_finite;
  return Number::ok;
}

// What is wrong with a label field, or "" when it is a label.
std::string label_problem(std::string_view text, Number status, double v) {
  if (status == Number::ok && v == std::floor(v) && v >= 0 && v <= kMaxCsvLabel) return {};
  const std::string quoted = "label '" + shown(text) + "'";
  switch (status) {
    case Number::ok: break;
    case Number::empty: return "empty field";
    case Number::invalid: return quoted + " is not a number";
    case Number::not_finite: return quoted + " is not an integer";
    case Number::out_of_range:
      // Too small to represent (1e-400) is a fraction; too large is a sign away from negative.
      if (text.find("e-") != std::string_view::npos || text.find("E-") != std::string_view::npos)
        return quoted + " is not an integer";
      return quoted + (text.front() == '-' ? " is negative" : " is above " + std::to_string(kMaxCsvLabel));
  }
  if (v != std::floor(v)) return quoted + " is not an integer";
  if (v < 0) return quoted + " is negative";
  return quoted + " is above " + std::to_string(kMaxCsvLabel);
}

// What is wrong with a feature field, or "" when `scaled` (its value times `scale`) can be stored.
std::string feature_problem(std::string_view text, Number status, double scaled, double scale) {
  const bool fits = std::fabs(scaled) <= std::numeric_limits<float>::max();  // false for NaN too
  if (status == Number::ok && fits) return {};
  const std::string quoted = "'" + shown(text) + "'";
  switch (status) {
    case Number::ok: break;
    case Number::empty: return "empty field";
    case Number::invalid: return quoted + " is not a number";
    case Number::out_of_range: return quoted + " is out of range";
    case Number::not_finite: return quoted + " is not a finite number";
  }
  char factor[64] = "";
  if (scale != 1.0) std::snprintf(factor, sizeof factor, " times scale %g", scale);
  return quoted + factor + " does not fit a 32-bit float";
}

std::string join_names(const std::vector<std::string>& names) {
  constexpr std::size_t max_names = 12;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max_names; ++i) out += (i ? ", " : "") + shown(names[i]);
  if (names.size() > max_names) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& file, const CsvOptions& options) {
  // A UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  // Lines end at LF, CRLF or a lone CR; blank lines are skipped but still counted.
  std::size_t pos = 0, line_number = 0;
  auto next_line = [&](std::string_view& line) {
    while (pos < text.size()) {
      const std::size_t start = pos;
      while (pos < text.size() && text[pos] != '\n' && text[pos] != '\r') ++pos;
      line = text.substr(start, pos - start);
      if (pos < text.size()) pos += (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
      ++line_number;
      if (!blank_line(line)) return true;
    }
    return false;
  };

  std::vector<Field> fields;
  std::string_view first_text;
  if (!next_line(first_text)) throw_data_format(file, "empty file");
  const Line first(file, line_number, first_text);
  const std::size_t n_columns = split_fields(first, fields);

  std::vector<std::string> names;
  if (options.header) {
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t j = 0; j < n_columns; ++j) {
      auto [it, inserted] = seen.emplace(fields[j].text, j);
      if (!inserted)
        first.fail(fields[j].offset, "column name '" + shown(fields[j].text) + "' appears twice (fields " +
                                         std::to_string(it->second + 1) + " and " + std::to_string(j + 1) + ")");
      names.push_back(fields[j].text);
    }
  } else {
    for (std::size_t j = 0; j < n_columns; ++j) names.push_back(std::to_string(j));
  }

  auto find_column = [&](const std::string& name) {
    for (std::size_t j = 0; j < names.size(); ++j)
      if (names[j] == name) return j;
    if (options.header)
      first.fail_line("no column '" + shown(name) + "' in the header (columns: " + join_names(names) + ")");
    throw_data_format(file, "no column '" + shown(name) + "': without a header, columns are named by position, 0 to " +
                                std::to_string(names.size() - 1));
  };
  const std::size_t label_column = find_column(options.label_column);

  // feature_of[j]: the position of column j among the features, or -1 when it is not one (the
  // label, or a column left out of `features`, which is then not even parsed).
  std::vector<std::int64_t> feature_of(n_columns, -1);
  CsvTable table;
  if (options.features.empty()) {
    for (std::size_t j = 0; j < n_columns; ++j)
      if (j != label_column) {
        feature_of[j] = static_cast<std::int64_t>(table.feature_names.size());
        table.feature_names.push_back(names[j]);
      }
  } else {
    for (const auto& name : options.features) {
      const std::size_t j = find_column(name);
      if (j == label_column)
        throw_data_format(file, "column '" + shown(name) + "' is the label and cannot also be a feature");
      if (feature_of[j] >= 0) throw_data_format(file, "feature column '" + shown(name) + "' is listed twice");
      feature_of[j] = static_cast<std::int64_t>(table.feature_names.size());
      table.feature_names.push_back(name);
    }
  }
  if (table.feature_names.empty())
    throw_data_format(file, "no feature columns besides the label column '" + shown(options.label_column) + "'");
  const std::size_t n_features = table.feature_names.size();

  auto column_name = [&](std::size_t j) {
    return names[j].empty() ? "column " + std::to_string(j + 1) + ", unnamed" : "column '" + shown(names[j]) + "'";
  };

  auto parse_row = [&](const Line& line) {
    const std::size_t n = split_fields(line, fields);
    if (n != n_columns) {
      const std::string what = "expected " + std::to_string(n_columns) + " fields, found " + std::to_string(n);
      // Too many: point at the first extra field; too few: at the end, where the next should be.
      line.fail(n > n_columns ? fields[n_columns].offset : line.text().size(), what);
    }
    const std::size_t row_start = table.features.size();
    table.features.resize(row_start + n_features);
    std::int32_t label = 0;
    for (std::size_t j = 0; j < n_columns; ++j) {
      if (j != label_column && feature_of[j] < 0) continue;
      const Field& f = fields[j];
      double v = 0;
      const Number status = parse_number(f.text, v);
      // The message is built only for a bad field: this loop runs once per value of the file.
      std::string problem;
      if (j == label_column) {
        problem = label_problem(f.text, status, v);
        if (problem.empty()) label = static_cast<std::int32_t>(v);
      } else {
        const double scaled = v * options.scale;
        problem = feature_problem(f.text, status, scaled, options.scale);
        if (problem.empty()) table.features[row_start + static_cast<std::size_t>(feature_of[j])] = static_cast<float>(scaled);
      }
      if (!problem.empty()) line.fail(f.offset, problem + " (" + column_name(j) + ")");
    }
    table.labels.push_back(label);
  };

  if (!options.header) parse_row(first);
  for (std::string_view line_text; next_line(line_text);) parse_row(Line(file, line_number, line_text));
  if (table.labels.empty()) throw_data_format(file, "no data rows after the header");
  return table;
}

CsvTable read_csv(const std::filesystem::path& file, const CsvOptions& options) {
  const std::string name = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw Error(ErrorCode::io, name + ": is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, name + ": cannot open: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorCode::io, name + ": read failed: " + std::strerror(errno));
  return parse_csv(text, name, options);
}

std::vector<std::int64_t> csv_sample_shape(const std::vector<std::int64_t>& requested, std::int64_t n_features,
                                           const std::string& file) {
  if (requested.empty()) return {n_features};
  // Multiplied with an overflow guard: a shape like [1e9, 1e9, 1e9] must be refused, not wrap.
  std::int64_t product = 1;
  bool too_big = false;
  for (auto d : requested) {
    if (d < 1) throw_data_format(file, "shape " + to_string(requested) + " has a dimension below 1");
    if (product > std::numeric_limits<std::int64_t>::max() / d) too_big = true;
    else product *= d;
  }
  if (too_big || product != n_features)
    throw_data_format(file, std::to_string(n_features) + " feature columns do not fill shape " + to_string(requested) +
                                (too_big ? "" : " (" + std::to_string(product) + " values)"));
  return requested;
}

}  // namespace pipeline::data
