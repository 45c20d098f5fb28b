// Numeric CSV files: one sample per row, a label column of non-negative integers and numeric
// feature columns. Every malformed row is an Error(data_format) located as "FILE:LINE:COL: what",
// so a user can jump to the offending field in an editor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::data {

// Labels above this are refused: class names are made for every label up to the largest, so a
// stray huge label would otherwise allocate millions of empty classes.
inline constexpr std::int32_t kMaxCsvLabel = 65535;

struct CsvOptions {
  std::string label_column = "label";  // a header name, or "0", "1", ... without a header
  bool header = true;
  std::vector<std::string> features;  // column names; empty: every column but the label
  double scale = 1.0;                 // multiplies every feature value
};

struct CsvTable {
  std::vector<std::string> feature_names;  // the feature columns, in feature order
  std::vector<float> features;             // row-major: rows() x feature_names.size()
  std::vector<std::int32_t> labels;        // one per data row, in [0, kMaxCsvLabel]
  std::int64_t rows() const { return static_cast<std::int64_t>(labels.size()); }
};

// Parses CSV text; `file` names it in messages. Accepts LF, CRLF and CR line endings, a UTF-8 byte
// order mark, blank lines (skipped), spaces around fields, fields in double quotes on one line
// ("" inside stands for one quote) and a leading '+' on numbers. Columns not used as label or
// feature are not parsed, so they may hold text. Refuses (data_format): an empty file, a
// header without rows, unknown or repeated columns, a row with another number of fields than the
// first, an empty field, a value that is not a finite number, a label that is not a non-negative
// integer up to kMaxCsvLabel.
CsvTable parse_csv(std::string_view text, const std::string& file, const CsvOptions& options);

// Reads and parses a file (Error(io) when it cannot be read); messages name it as given.
CsvTable read_csv(const std::filesystem::path& file, const CsvOptions& options);

// The sample shape for `n_features` values: `requested`, or [n_features] when it is empty.
// Error(data_format) naming `file` when the shape does not hold exactly n_features values.
std::vector<std::int64_t> csv_sample_shape(const std::vector<std::int64_t>& requested, std::int64_t n_features,
                                           const std::string& file);

}  // namespace pipeline::data
