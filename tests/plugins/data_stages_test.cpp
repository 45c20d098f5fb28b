// The data plugin's CSV reader and the transforms behind long_tail, split and concat.
#include <catch2/catch.hpp>

#include <set>

#include "csv_reader.hpp"
#include "pipeline/error.hpp"
#include "support/temp_dir.hpp"
#include "transforms.hpp"

using namespace pipeline;
using namespace pipeline::data;

namespace {

CsvTable parse(const std::string& text, const CsvOptions& options = {}) {
  return parse_csv(text, "data.csv", options);
}

// The message parse_csv refuses this text with, checking that it is a data_format error.
std::string refusal(const std::string& text, const CsvOptions& options = {}) {
  try {
    parse(text, options);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::data_format);
    return e.message();
  }
  FAIL("parse_csv accepted: " << text);
  return {};
}

// A dataset of one-value samples numbered 0..n-1, so a sample's value tells where it came from.
Dataset numbered(const std::vector<std::int32_t>& labels, std::vector<std::string> names, float offset = 0) {
  std::vector<float> values;
  for (std::size_t i = 0; i < labels.size(); ++i) values.push_back(offset + static_cast<float>(i));
  return Dataset(Tensor({static_cast<std::int64_t>(labels.size()), 1}, std::move(values)), labels, std::move(names));
}

std::vector<std::int32_t> cycling_labels(int classes, int per_class) {
  std::vector<std::int32_t> labels;
  for (int i = 0; i < classes * per_class; ++i) labels.push_back(i % classes);
  return labels;
}

}  // namespace

TEST_CASE("a CSV file with a header, CRLF line endings and quoted fields is read", "[csv]") {
  const std::string text =
      "\"x1\",x2 , \"label\"\r\n"
      "1.5,\"2\",0\r\n"
      " -3 , +4e1 ,\"3.0\"\r\n"
      "\r\n";
  test::TempDir dir;
  test::write_text(dir / "data.csv", text);
  const CsvTable t = read_csv(dir / "data.csv", {});
  CHECK(t.feature_names == std::vector<std::string>{"x1", "x2"});
  CHECK(t.features == std::vector<float>{1.5f, 2.0f, -3.0f, 40.0f});
  CHECK(t.labels == std::vector<std::int32_t>{0, 3});
  CHECK(t.rows() == 2);

  // The same with LF, a byte order mark, no final newline, and a lone CR as well.
  const CsvTable u = parse("\xEF\xBB\xBFx1,x2,label\n1.5,2,0\r-3,40,3");
  CHECK(u.feature_names == t.feature_names);
  CHECK(u.features == t.features);
  CHECK(u.labels == t.labels);

  CHECK_THROWS_WITH(read_csv(dir / "missing.csv", {}), Catch::StartsWith((dir / "missing.csv").string() + ": cannot open"));
}

TEST_CASE("CSV features are chosen by name, in order, scaled; unused columns are not parsed", "[csv]") {
  CsvOptions options;
  options.label_column = "y";
  options.features = {"b", "a"};
  options.scale = 0.5;
  const CsvTable t = parse("id,a,y,b\nfirst,1,2,3\n\"second, quoted\",4,5,6\n", options);
  CHECK(t.feature_names == std::vector<std::string>{"b", "a"});
  CHECK(t.features == std::vector<float>{1.5f, 0.5f, 3.0f, 2.0f});
  CHECK(t.labels == std::vector<std::int32_t>{2, 5});

  options.features = {"a", "nope"};
  CHECK(refusal("id,a,y,b\n1,2,3,4\n", options) == "data.csv:1: no column 'nope' in the header (columns: id, a, y, b)");
  options.features = {"a", "y"};
  CHECK(refusal("id,a,y,b\n1,2,3,4\n", options) == "data.csv: column 'y' is the label and cannot also be a feature");
}

TEST_CASE("without a header, CSV columns are named by position", "[csv]") {
  CsvOptions options;
  options.header = false;
  options.label_column = "2";
  const CsvTable t = parse("1,2,7\n3,4,8\n", options);
  CHECK(t.feature_names == std::vector<std::string>{"0", "1"});
  CHECK(t.features == std::vector<float>{1, 2, 3, 4});
  CHECK(t.labels == std::vector<std::int32_t>{7, 8});
  options.label_column = "label";
  CHECK(refusal("1,2,7\n", options) ==
        "data.csv: no column 'label': without a header, columns are named by position, 0 to 2");
  options.label_column = "0";
  CHECK(refusal("1,2,7\n1,x,7\n", options) == "data.csv:2:3: 'x' is not a number (column '1')");
}

TEST_CASE("each malformed CSV row is refused with its file, line and column", "[csv]") {
  const std::string head = "x1,x2,x3,label\n";
  std::string good;
  for (int i = 0; i < 5; ++i) good += "1,2,3,0\n";  // lines 2 to 6
  CHECK(refusal(head + good + "1.00,2.000,abc,1\n") == "data.csv:7:12: 'abc' is not a number (column 'x3')");

  CHECK(refusal(head + "1,2,3\n") == "data.csv:2:6: expected 4 fields, found 3");
  CHECK(refusal(head + "1,2,3,0,9\n") == "data.csv:2:9: expected 4 fields, found 5");
  CHECK(refusal(head + "1,,3,0\n") == "data.csv:2:3: empty field (column 'x2')");
  CHECK(refusal(head + "1,2,3,\n") == "data.csv:2:7: empty field (column 'label')");
  CHECK(refusal(head + "1,2,3,1.5\n") == "data.csv:2:7: label '1.5' is not an integer (column 'label')");
  CHECK(refusal(head + "1,2,3,-1\n") == "data.csv:2:7: label '-1' is negative (column 'label')");
  CHECK(refusal(head + "1,2,3,one\n") == "data.csv:2:7: label 'one' is not a number (column 'label')");
  CHECK(refusal(head + "1,2,3,70000\n") == "data.csv:2:7: label '70000' is above 65535 (column 'label')");
  CHECK(refusal(head + "1,2,3,1e400\n") == "data.csv:2:7: label '1e400' is above 65535 (column 'label')");
  CHECK(refusal(head + "1.5abc,2,3,0\n") == "data.csv:2:1: '1.5abc' is not a number (column 'x1')");
  CHECK(refusal(head + "1,nan,3,0\n") == "data.csv:2:3: 'nan' is not a finite number (column 'x2')");
  CHECK(refusal(head + "1,2,1e400,0\n") == "data.csv:2:5: '1e400' is out of range (column 'x3')");
  CHECK(refusal(head + "1,2,1e300,0\n") == "data.csv:2:5: '1e300' does not fit a 32-bit float (column 'x3')");
  CHECK(refusal(head + "1,+-2,3,0\n") == "data.csv:2:3: '+-2' is not a number (column 'x2')");
  CHECK(refusal(head + "1,\"2,3,0\n") == "data.csv:2:3: unterminated quoted field");
  CHECK(refusal(head + "1,\"2\"x,3,0\n") == "data.csv:2:6: unexpected 'x' after a quoted field");
  // Columns count characters, not bytes: 'é' is two bytes in UTF-8.
  CsvOptions only_b;
  only_b.features = {"b"};
  CHECK(refusal("a,b,label\né,x,0\n", only_b) == "data.csv:2:3: 'x' is not a number (column 'b')");
  // Blank lines still count, so the line number is the editor's.
  CHECK(refusal(head + "\n\r\n1,2,3,x\n") == "data.csv:4:7: label 'x' is not a number (column 'label')");
  // Garbage is shown short and escaped.
  CHECK(refusal(head + "1,2,\x01" + std::string(50, 'z') + ",0\n") ==
        "data.csv:2:5: '\\x01" + std::string(39, 'z') + "...' is not a number (column 'x3')");
}

TEST_CASE("CSV files without rows, or with a broken header, are refused", "[csv]") {
  CHECK(refusal("") == "data.csv: empty file");
  CHECK(refusal("\n \r\n\n") == "data.csv: empty file");
  CHECK(refusal("x,label\r\n\r\n") == "data.csv: no data rows after the header");
  CHECK(refusal("a,b\n1,2\n") == "data.csv:1: no column 'label' in the header (columns: a, b)");
  CHECK(refusal("a,b,a,label\n1,2,3,4\n") == "data.csv:1:5: column name 'a' appears twice (fields 1 and 3)");
  CHECK(refusal("label\n1\n") == "data.csv: no feature columns besides the label column 'label'");
}

TEST_CASE("the CSV reader refuses random text without crashing", "[csv]") {
  // Bytes that matter to the parser, plus a control byte and half of a UTF-8 sequence.
  const std::string alphabet = "0123456789,,,\"\"\r\n\n .e-+abclx\t\x01\xC3";
  const std::string good = "a,b,label\n1,2,0\n3.5,\"4\",1\r\n-0.25, 1e3 ,2\n";
  Rng rng(7);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 4000; ++round) {
    // Half the rounds mutate a good file a little, so that both outcomes are exercised.
    std::string text = good;
    const auto edits = 1 + rng.uniform_int(3);
    for (std::uint64_t e = 0; e < edits; ++e) {
      const char c = alphabet[rng.uniform_int(alphabet.size())];
      const auto at = rng.uniform_int(text.size() + 1);
      switch (rng.uniform_int(3)) {
        case 0: text.insert(at, 1, c); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = c; break;
      }
    }
    if (round % 2) {
      text = round % 4 == 1 ? "a,b,label\n" : "";
      const auto length = rng.uniform_int(60);
      for (std::uint64_t i = 0; i < length; ++i) text += alphabet[rng.uniform_int(alphabet.size())];
    }
    CsvOptions options;
    options.header = round % 3 != 0;
    if (!options.header) options.label_column = "2";
    try {
      const CsvTable t = parse(text, options);
      CHECK(t.features.size() == t.labels.size() * t.feature_names.size());
      ++accepted;
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::data_format);
      CHECK(e.message().rfind("data.csv", 0) == 0);
      ++refused;
    }
  }
  CHECK(accepted > 100);
  CHECK(refused > 100);
}

TEST_CASE("the CSV sample shape must hold exactly the features", "[csv]") {
  CHECK(csv_sample_shape({}, 5, "data.csv") == std::vector<std::int64_t>{5});
  CHECK(csv_sample_shape({1, 28, 28}, 784, "data.csv") == std::vector<std::int64_t>{1, 28, 28});
  CHECK(csv_sample_shape({28, 28}, 784, "data.csv") == std::vector<std::int64_t>{28, 28});
  CHECK_THROWS_WITH(csv_sample_shape({1, 28, 28}, 783, "data.csv"),
                    "data.csv: 783 feature columns do not fill shape [1, 28, 28] (784 values)");
  CHECK_THROWS_WITH(csv_sample_shape({4000000000, 4000000000, 4000000000}, 2, "data.csv"),
                    "data.csv: 2 feature columns do not fill shape [4000000000, 4000000000, 4000000000]");
  CHECK_THROWS_WITH(csv_sample_shape({2, 0}, 2, "data.csv"), "data.csv: shape [2, 0] has a dimension below 1");
}

TEST_CASE("long-tail counts fall geometrically from the smallest class count", "[long_tail]") {
  const std::vector<std::int64_t> hundreds(5, 100);
  CHECK(long_tail_counts(hundreds, 10, 0, "src") == std::vector<std::int64_t>{100, 56, 32, 18, 10});
  CHECK(long_tail_counts(hundreds, 1, 0, "src") == std::vector<std::int64_t>(5, 100));
  CHECK(long_tail_counts(hundreds, 10, 50, "src") == std::vector<std::int64_t>{50, 28, 16, 9, 5});
  CHECK(long_tail_counts(hundreds, 10, 500, "src") == std::vector<std::int64_t>{100, 56, 32, 18, 10});
  // n_0 is the smallest class, whichever it is; every class keeps at least one sample.
  CHECK(long_tail_counts({300, 80, 200}, 4, 0, "src") == std::vector<std::int64_t>{80, 40, 20});
  CHECK(long_tail_counts({10, 10, 10}, 1e9, 0, "src") == std::vector<std::int64_t>{10, 1, 1});
  CHECK(long_tail_counts({7}, 10, 0, "src") == std::vector<std::int64_t>{7});
  CHECK_THROWS_WITH(long_tail_counts({5, 0, 5}, 2, 0, "src"),
                    "src: class 1 has no samples; a long tail needs samples of every class");
  CHECK_THROWS_WITH(long_tail_counts({5, 5}, 0.5, 0, "src"), Catch::StartsWith("ratio must be at least 1"));
}

TEST_CASE("long-tail sampling keeps the counts, reproducibly from the seed", "[long_tail]") {
  const Dataset in = numbered(cycling_labels(5, 100), {"a", "b", "c", "d", "e"});
  const auto counts = long_tail_counts(in.class_counts(), 10, 0, "src");
  Rng r1(42), r2(42), r3(43);
  const Dataset a = take_class_counts(in, counts, r1, "src");
  const Dataset b = take_class_counts(in, counts, r2, "src");
  const Dataset c = take_class_counts(in, counts, r3, "src");
  CHECK(a.class_counts() == counts);
  CHECK(a.class_names() == in.class_names());
  CHECK(a.features().values() == b.features().values());
  CHECK(a.labels() == b.labels());
  CHECK(a.features().values() != c.features().values());
  // Samples stay in their original order, each with its own label.
  const auto& v = a.features().values();
  CHECK(std::is_sorted(v.begin(), v.end()));
  for (std::int64_t i = 0; i < a.size(); ++i)
    CHECK(a.labels()[i] == in.labels()[static_cast<std::size_t>(v[i])]);
  Rng r4(1);
  CHECK_THROWS_WITH(take_class_counts(in, {100, 101, 1, 1, 1}, r4, "src"),
                    "src: class b has 100 samples, fewer than the 101 asked for");
}

TEST_CASE("split holds out a seeded, stratified validation set", "[split]") {
  const Dataset in = numbered(cycling_labels(4, 10), {"w", "x", "y", "z"});
  Rng r1(3), r2(3), r3(4);
  const SplitDatasets s = split_dataset(in, 0.3, r1);
  CHECK(s.train.size() == 28);
  CHECK(s.validation.size() == 12);
  CHECK(s.validation.class_counts() == std::vector<std::int64_t>{3, 3, 3, 3});
  CHECK(s.train.class_names() == in.class_names());
  std::set<float> seen(s.train.features().values().begin(), s.train.features().values().end());
  for (float x : s.validation.features().values()) CHECK(seen.insert(x).second);
  CHECK(seen.size() == 40);
  CHECK(split_dataset(in, 0.3, r2).validation.features().values() == s.validation.features().values());
  CHECK(split_dataset(in, 0.3, r3).validation.features().values() != s.validation.features().values());
  Rng r5(1);
  CHECK(split_dataset(in, 0.0, r5).validation.size() == 0);
}

TEST_CASE("concat appends samples of equal classes, or merges classes by name", "[concat]") {
  const Dataset first = numbered({0, 1, 0}, {"cat", "dog"});
  const Dataset same = numbered({1, 1}, {"cat", "dog"}, 10);
  const Dataset c = concat_datasets(first, same, false);
  CHECK(c.features().shape() == Shape{5, 1});
  CHECK(c.features().values() == std::vector<float>{0, 1, 2, 10, 11});
  CHECK(c.labels() == std::vector<std::int32_t>{0, 1, 0, 1, 1});
  CHECK(c.class_names() == first.class_names());

  const Dataset other = numbered({0, 1, 2}, {"bird", "cat", "fox"}, 10);
  CHECK_THROWS_WITH(concat_datasets(first, other, false),
                    "class names differ at class 0: 'cat' in 'first', 'bird' in 'second'; "
                    "set merge_classes: true to merge the classes by name");
  const Dataset more = numbered({2}, {"cat", "dog", "fox"});
  CHECK_THROWS_WITH(concat_datasets(first, more, false),
                    "class names differ: 'first' has 2 classes, 'second' has 3 (class 2 is 'fox' only in "
                    "'second'); set merge_classes: true to merge the classes by name");

  const Dataset m = concat_datasets(first, other, true);
  CHECK(m.class_names() == std::vector<std::string>{"cat", "dog", "bird", "fox"});
  CHECK(m.labels() == std::vector<std::int32_t>{0, 1, 0, 2, 0, 3});
  CHECK(m.features().values() == std::vector<float>{0, 1, 2, 10, 11, 12});

  const Dataset twice = numbered({0, 1}, {"cat", "cat"});
  CHECK_THROWS_WITH(concat_datasets(first, twice, true),
                    "class name 'cat' appears twice in 'second' (classes 0 and 1); merge_classes needs unique names");
  const Dataset wide(Tensor({1, 2}, {1, 2}), {0}, {"cat", "dog"});
  CHECK_THROWS_WITH(concat_datasets(first, wide, true), "sample shapes differ: [1] in 'first', [2] in 'second'");
}
