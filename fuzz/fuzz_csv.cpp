// CSV datasets, with a header and a label column by name, and without one.
#include "fuzz_support.hpp"
#include "csv_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] { pipeline::data::parse_csv(text, "fuzz.csv", {}); });
  pipeline::data::CsvOptions no_header;
  no_header.header = false;
  no_header.label_column = "0";
  fuzz::expect_clean([&] { pipeline::data::parse_csv(text, "fuzz.csv", no_header); });
  return 0;
}
