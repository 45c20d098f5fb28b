#include "pipeline/safetensors.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "pipeline/error.hpp"
#include "support/temp_dir.hpp"

using namespace pipeline;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

std::string length_field(std::uint64_t length) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes;
}

// A safetensors file written by hand: the length field, the header text exactly as given, the data.
std::string file_bytes(const std::string& header, const std::string& data = {}) {
  return length_field(header.size()) + header + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// What read_safetensors says about these bytes, without the "<file>: " it puts in front.
std::string read_error(const std::string& bytes) {
  test::TempDir dir;
  const fs::path file = dir / "bad.safetensors";
  test::write_text(file, bytes);
  try {
    read_safetensors(file);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::data_format);
    const std::string prefix = file.string() + ": ";
    REQUIRE(e.message().substr(0, prefix.size()) == prefix);
    return e.message().substr(prefix.size());
  }
  return "(read without error)";
}

SafetensorsFile read_bytes(const std::string& bytes) {
  test::TempDir dir;
  test::write_text(dir / "good.safetensors", bytes);
  return read_safetensors(dir / "good.safetensors");
}

}  // namespace

TEST_CASE("written tensors read back bit-identical, in order, with their metadata", "[safetensors]") {
  const float nan_with_payload = [] {
    const std::uint32_t bits = 0x7fc12345;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }();
  const Tensor weight({2, 3}, {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::infinity(), nan_with_payload, -3.25e-7f});
  const Tensor scalar(Shape{}, {42.0f});
  const Tensor empty(Shape{2, 0, 3});
  const Tensor bias({2}, {0.125f, -8.0f});
  const std::vector<std::pair<std::string, const Tensor*>> written = {
      {"weight", &weight}, {"scalar", &scalar}, {"empty", &empty}, {"bias", &bias}};
  const std::vector<std::pair<std::string, std::string>> metadata = {
      {"format", "pt"}, {"note", "non-ASCII \xc3\xa9 and \"quotes\""}, {"a", ""}};

  test::TempDir dir;
  const fs::path file = dir / "out.safetensors";
  write_safetensors(file, written, metadata);

  const SafetensorsFile read = read_safetensors(file);
  REQUIRE(read.tensors.size() == written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    const auto& [name, tensor] = written[i];
    const SafetensorsEntry& entry = read.tensors[i];
    CHECK(entry.name == name);
    CHECK(entry.dtype == "F32");
    CHECK(entry.shape == tensor->shape());
    CHECK(entry.i64.empty());
    REQUIRE(entry.f32.size() == tensor->values().size());
    CHECK(raw_bytes(entry.f32) == raw_bytes(tensor->values()));
  }
  CHECK(read.metadata == metadata);
  CHECK(read.find("bias") == &read.tensors[3]);
  CHECK(read.find("missing") == nullptr);

  // The layout the reference implementation produces: a space-padded header keeping data 8-aligned.
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t header_bytes = 0;
  for (int i = 0; i < 8; ++i) header_bytes |= std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  CHECK(header_bytes % 8 == 0);
  CHECK(bytes.size() == 8 + header_bytes + (6 + 1 + 0 + 2) * sizeof(float));
  const std::string header = bytes.substr(8, header_bytes);
  CHECK(header.find_last_not_of(' ') == header.find_last_of('}'));

  // Nothing but the file is left behind: the atomic write cleaned up its temporary file.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("the writer rejects repeated and reserved names without creating the file", "[safetensors]") {
  test::TempDir dir;
  const fs::path file = dir / "out.safetensors";
  const Tensor t({1}, {1.0f});
  const Tensor inconsistent;  // 0-d, so one value, but holds none
  CHECK_THROWS_AS(write_safetensors(file, {{"a", &t}, {"a", &t}}), Error);
  CHECK_THROWS_AS(write_safetensors(file, {{"__metadata__", &t}}), Error);
  CHECK_THROWS_AS(write_safetensors(file, {{"a", &t}}, {{"k", "1"}, {"k", "2"}}), Error);
  CHECK_THROWS_AS(write_safetensors(file, {{"a", nullptr}}), Error);
  CHECK_THROWS_AS(write_safetensors(file, {{"a", &inconsistent}}), Error);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("the PyTorch golden file for the CNN reads", "[safetensors]") {
  const fs::path golden = fs::path(PIPELINE_SOURCE_DIR) / ".." / "shared" / "golden";
  if (!fs::is_directory(golden)) {
    WARN("skipped: no golden files at " << golden);
    return;
  }
  const SafetensorsFile cnn = read_safetensors(golden / "cnn.safetensors");
  CHECK(cnn.tensors.size() == 29);
  CHECK(cnn.tensors.front().name == "conv1.bias");  // offset order, not header order
  CHECK(cnn.tensors.back().name == "labels");

  const SafetensorsEntry* conv1 = cnn.find("conv1.weight");
  REQUIRE(conv1);
  CHECK(conv1->dtype == "F32");
  CHECK(conv1->shape == Shape{32, 1, 3, 3});
  REQUIRE(conv1->f32.size() == 288);
  CHECK(conv1->f32[0] == Approx(-0.31401383876800537));
  CHECK(conv1->f32[287] == Approx(0.11530403792858124));

  const SafetensorsEntry* labels = cnn.find("labels");
  REQUIRE(labels);
  CHECK(labels->dtype == "I64");
  CHECK(labels->shape == Shape{8});
  CHECK(labels->f32.empty());
  CHECK(labels->i64 == std::vector<std::int64_t>{9, 2, 1, 1, 6, 1, 4, 6});

  const SafetensorsEntry* loss = cnn.find("expected.loss");
  REQUIRE(loss);
  CHECK(loss->shape == Shape{1});
  REQUIRE(loss->f32.size() == 1);
  std::uint32_t loss_bits = 0;
  std::memcpy(&loss_bits, loss->f32.data(), sizeof loss_bits);
  CHECK(loss_bits == 0x40152116);  // 2.3301444, as PyTorch stored it

  const auto model = std::find(cnn.metadata.begin(), cnn.metadata.end(), std::pair<std::string, std::string>("model", "cnn"));
  CHECK(model != cnn.metadata.end());
}

TEST_CASE("I64 tensors, empty tensors and gaps read; tensors come in offset order", "[safetensors]") {
  const std::vector<std::int64_t> labels = {-1, std::numeric_limits<std::int64_t>::max()};
  const std::vector<float> values = {2.5f};
  const SafetensorsFile file = read_bytes(file_bytes(
      R"({"z":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},)"
      R"("e":{"dtype":"F32","shape":[0,5],"data_offsets":[8,8]}})",
      raw_bytes(labels) + "gap!" + raw_bytes(values)));
  REQUIRE(file.tensors.size() == 3);
  CHECK(file.tensors[0].name == "z");
  CHECK(file.tensors[0].i64 == labels);
  CHECK(file.tensors[1].name == "e");
  CHECK(file.tensors[1].shape == Shape{0, 5});
  CHECK(file.tensors[1].f32.empty());
  CHECK(file.tensors[2].name == "a");
  CHECK(file.tensors[2].f32 == values);
  CHECK(file.metadata.empty());
}

TEST_CASE("a missing file is an I/O error", "[safetensors]") {
  test::TempDir dir;
  try {
    read_safetensors(dir / "absent.safetensors");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::io);
  }
}

TEST_CASE("a file too short for the header length is rejected", "[safetensors]") {
  CHECK(read_error("") == "file of 0 bytes is too short for the 8-byte header length");
  CHECK(read_error("\x02\0\0\0\0"s) == "file of 5 bytes is too short for the 8-byte header length");
}

TEST_CASE("a header length beyond the file or the limit is rejected", "[safetensors]") {
  CHECK(read_error(length_field(1000) + "{}") == "header of 1000 bytes exceeds the 2 bytes after the length field");
  CHECK(read_error(length_field(3) + "{}") == "header of 3 bytes exceeds the 2 bytes after the length field");
  CHECK(read_error(length_field((100 << 20) + 1) + "{}") ==
        "header of 104857601 bytes exceeds the limit of 100 MiB");
  CHECK(read_error(length_field(std::numeric_limits<std::uint64_t>::max())) ==
        "header of 18446744073709551615 bytes exceeds the limit of 100 MiB");
}

TEST_CASE("a header that is not a JSON object is rejected", "[safetensors]") {
  using Catch::Matchers::StartsWith;
  CHECK_THAT(read_error(file_bytes(R"({"a": )")), StartsWith("header is not valid JSON: [json.exception.parse_error."));
  CHECK_THAT(read_error(file_bytes("")), StartsWith("header is not valid JSON: [json.exception.parse_error."));
  CHECK_THAT(read_error(file_bytes("{} x")), StartsWith("header is not valid JSON: [json.exception.parse_error."));
  CHECK(read_error(file_bytes("[1, 2]")) == "header must be a JSON object, not [1,2]");
}

TEST_CASE("entries with missing or mistyped fields are rejected", "[safetensors]") {
  CHECK(read_error(file_bytes(R"({"x":{"shape":[1],"data_offsets":[0,4]}})")) == "tensor 'x' has no dtype");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})")) == "tensor 'x' has no shape");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[1]}})")) == "tensor 'x' has no data_offsets");
  CHECK(read_error(file_bytes(R"({"x":[1]})")) == "tensor 'x' must be a JSON object, not [1]");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})")) ==
        "tensor 'x': dtype must be a string, not 32");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})")) ==
        "tensor 'x': shape must be an array, not \"1\"");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})")) ==
        "tensor 'x': data_offsets must be two non-negative integers, not [0]");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})")) ==
        "tensor 'x': data_offsets must be two non-negative integers, not [-4,0]");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})")) ==
        "tensor 'x': data_offsets must be two non-negative integers, not [0,4.0]");
  CHECK(read_error(file_bytes(R"({"__metadata__":["a"]})")) == "__metadata__ must be an object of strings, not [\"a\"]");
  CHECK(read_error(file_bytes(R"({"__metadata__":{"k":1}})")) == "__metadata__ value of 'k' must be a string, not 1");
}

TEST_CASE("negative, non-integer and oversized dimensions are rejected", "[safetensors]") {
  const auto with_shape = [](const std::string& shape) {
    return file_bytes(R"({"x":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,0]}})");
  };
  CHECK(read_error(with_shape("[2,-1]")) == "tensor 'x' has negative dimension -1 in its shape");
  CHECK(read_error(with_shape("[2.5]")) == "tensor 'x' has non-integer dimension 2.5 in its shape");
  CHECK(read_error(with_shape(R"(["3"])")) == "tensor 'x' has non-integer dimension \"3\" in its shape");
  CHECK(read_error(with_shape("[18446744073709551615]")) ==
        "tensor 'x' has dimension 18446744073709551615, more than 2^63 - 1");
  CHECK(read_error(with_shape("[4294967296,4294967296]")) ==
        "tensor 'x' of shape [4294967296, 4294967296] has a size beyond 64 bits");
  // Within int64 as elements, beyond 64 bits as bytes.
  CHECK(read_error(with_shape("[4611686018427387904]")) ==
        "tensor 'x' of shape [4611686018427387904] has a size beyond 64 bits");
}

TEST_CASE("dtypes other than F32 and I64 are rejected", "[safetensors]") {
  for (const std::string dtype : {"F16", "BF16", "F64", "I32", "U8", "BOOL"}) {
    CHECK(read_error(file_bytes(R"({"x":{"dtype":")" + dtype + R"(","shape":[1],"data_offsets":[0,2]}})", "ab")) ==
          "tensor 'x' has dtype " + dtype + "; only F32 and I64 are supported");
  }
}

TEST_CASE("data offsets that are reversed or leave the data buffer are rejected", "[safetensors]") {
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, '\0'))) ==
        "tensor 'x' has data_offsets [8, 4] that end before they begin");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(8, '\0'))) ==
        "tensor 'x' data [4, 12) lies outside the 8-byte data buffer");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[9,9]}})", std::string(8, '\0'))) ==
        "tensor 'x' data [9, 9) lies outside the 8-byte data buffer");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[18446744073709551607,18446744073709551615]}})")) ==
        "tensor 'x' data [18446744073709551607, 18446744073709551615) lies outside the 0-byte data buffer");
}

TEST_CASE("a byte size that does not fit the shape is rejected", "[safetensors]") {
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(24, '\0'))) ==
        "tensor 'x' of shape [2, 3] F32 needs 24 bytes, has 20");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"I64","shape":[],"data_offsets":[0,4]}})", std::string(8, '\0'))) ==
        "tensor 'x' of shape [] I64 needs 8 bytes, has 4");
}

TEST_CASE("overlapping tensors are rejected", "[safetensors]") {
  CHECK(read_error(file_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                              R"("b":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}})",
                              std::string(28, '\0'))) == "tensors 'a' [0, 16) and 'b' [12, 28) overlap");
  CHECK(read_error(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                              std::string(4, '\0'))) == "tensors 'a' [0, 4) and 'b' [0, 4) overlap");
}

TEST_CASE("repeated tensor names and keys are rejected", "[safetensors]") {
  const std::string x = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  CHECK(read_error(file_bytes(R"({"x":)" + x + R"(,"x":)" + x + "}", "abcd")) == "tensor 'x' appears twice in the header");
  CHECK(read_error(file_bytes(R"({"__metadata__":{},"__metadata__":{}})")) == "__metadata__ appears twice in the header");
  CHECK(read_error(file_bytes(R"({"x":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})", "abcd")) ==
        "tensor 'x' has key 'dtype' twice");
  CHECK(read_error(file_bytes(R"({"__metadata__":{"k":"1","k":"2"}})")) == "__metadata__ has key 'k' twice");
}

TEST_CASE("regression: a header nested 100,000 deep is refused without recursion", "[safetensors][hardening]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK_THAT(read_error(file_bytes(deep)), Catch::Matchers::StartsWith("header nests deeper than 8 levels"));
  const std::string deep_object = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK_THAT(read_error(file_bytes(deep_object)), Catch::Matchers::StartsWith("header nests deeper than 8 levels"));
}

TEST_CASE("regression: 40,000 empty tensors parse in one pass", "[safetensors][hardening]") {
  std::string header = "{";
  for (int i = 0; i < 40000; ++i)
    header += (i ? "," : "") + std::string("\"t") + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
  header += "}";
  test::TempDir dir;
  const auto file = dir / "many.safetensors";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  test::write_text(file, bytes + header);
  const auto f = read_safetensors(file);
  CHECK(f.tensors.size() == 40000);
}
