#include "pipeline/safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include <unordered_set>

#include <cmath>
#include <set>

#include "pipeline/error.hpp"
#include "pipeline/io.hpp"

namespace pipeline {
namespace {

using Json = nlohmann::json;

// Tensor data is copied between the file and memory byte for byte.
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

// Bounds what a corrupt length field can make us allocate, as the reference implementation does.
constexpr std::uint64_t max_header_bytes = std::uint64_t{100} << 20;
constexpr std::string_view metadata_key = "__metadata__";

// Every format problem names the file it was found in.
class Complaint {
 public:
  explicit Complaint(const std::filesystem::path& file) : file_(file.string()) {}
  [[noreturn]] void operator()(const std::string& what) const { throw_data_format(file_, what); }
  [[noreturn]] void io(const std::string& what) const { throw Error(ErrorCode::io, file_ + ": " + what); }

 private:
  std::string file_;
};

std::string tensor_named(const std::string& name) { return "tensor '" + name + "'"; }

// A JSON value for a message: short, since a corrupt header can hold megabytes in one value.
std::string brief(const Json& value) {
  constexpr std::size_t limit = 40;
  std::string text = value.dump();
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

std::string range(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

std::size_t element_bytes(const std::string& dtype) {
  if (dtype == "F32") return sizeof(float);
  if (dtype == "I64") return sizeof(std::int64_t);
  return 0;
}

struct Header {
  Json json;
  std::vector<std::string> metadata_keys;  // in file order, which nlohmann's map forgets
};

// A safetensors header is three levels deep (header, tensor, shape); anything deeper is refused
// before it is built, so no recursion later (a message's dump, a destructor) meets it.
constexpr std::size_t max_header_depth = 8;
constexpr std::size_t max_tensors = 1'000'000;

// Builds the header on an explicit stack with one pass over the text, catching what nlohmann's
// DOM would silently drop (a repeated key keeps one of the two tensors) in a set per object.
class HeaderBuilder : public nlohmann::json_sax<Json> {
 public:
  HeaderBuilder(Header& header, const Complaint& complain) : header_(header), complain_(complain) {}

  bool null() override { return put(Json(nullptr)); }
  bool boolean(bool b) override { return put(Json(b)); }
  bool number_integer(number_integer_t i) override { return put(Json(i)); }
  bool number_unsigned(number_unsigned_t u) override { return put(Json(u)); }
  bool number_float(number_float_t d, const string_t&) override { return put(Json(d)); }
  bool string(string_t& text) override { return put(Json(std::move(text))); }
  bool binary(binary_t&) override { complain_("header is not valid JSON: binary values"); }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      if (frames_.size() == 1) complain_((k == metadata_key ? k : tensor_named(k)) + " appears twice in the header");
      const std::string& owner = frames_[1].name;
      complain_((owner == metadata_key ? owner : tensor_named(owner)) + " has key '" + k + "' twice");
    }
    if (frames_.size() == 1 && k != metadata_key && ++tensors_ > max_tensors)
      complain_("header lists more than " + std::to_string(max_tensors) + " tensors");
    if (frames_.size() == 2 && f.name == metadata_key) header_.metadata_keys.push_back(k);
    f.key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    (void)position;  // nlohmann's message gives the line and column
    complain_(std::string("header is not valid JSON: ") + e.what());
  }

 private:
  struct Frame {
    Json value;
    std::string name;  // the key this value belongs to ("" for the header and array items)
    std::string key;   // the latest key inside it (objects)
    std::unordered_set<std::string> keys;
  };
  bool put(Json v) {
    if (frames_.empty()) {
      header_.json = std::move(v);
      return true;
    }
    Frame& f = frames_.back();
    if (f.value.is_array()) f.value.push_back(std::move(v));
    else f.value[f.key] = std::move(v);
    return true;
  }
  bool open(Json container) {
    if (frames_.size() >= max_header_depth)
      complain_("header nests deeper than " + std::to_string(max_header_depth) + " levels");
    const std::string name = !frames_.empty() && frames_.back().value.is_object() ? frames_.back().key : "";
    frames_.push_back({std::move(container), name, {}, {}});
    return true;
  }
  bool close() {
    Json done = std::move(frames_.back().value);
    frames_.pop_back();
    return put(std::move(done));
  }
  Header& header_;
  const Complaint& complain_;
  std::vector<Frame> frames_;
  std::size_t tensors_ = 0;
};

Header parse_header(const std::string& text, const Complaint& complain) {
  Header header;
  HeaderBuilder builder(header, complain);
  Json::sax_parse(text, &builder);
  if (!header.json.is_object()) complain("header must be a JSON object, not " + brief(header.json));
  return header;
}

std::vector<std::pair<std::string, std::string>> parse_metadata(const Header& header, const Complaint& complain) {
  std::vector<std::pair<std::string, std::string>> metadata;
  const auto found = header.json.find(metadata_key);
  if (found == header.json.end()) return metadata;
  if (!found->is_object()) complain("__metadata__ must be an object of strings, not " + brief(*found));
  for (const auto& key : header.metadata_keys) {
    const Json& value = found->at(key);
    if (!value.is_string()) complain("__metadata__ value of '" + key + "' must be a string, not " + brief(value));
    metadata.emplace_back(key, value.get<std::string>());
  }
  return metadata;
}

struct PlacedEntry {
  SafetensorsEntry entry;
  std::uint64_t begin = 0;  // in the data buffer
  std::uint64_t end = 0;
};

PlacedEntry parse_entry(const std::string& name, const Json& json, std::uint64_t buffer_bytes,
                        const Complaint& complain) {
  const std::string who = tensor_named(name);
  if (!json.is_object()) complain(who + " must be a JSON object, not " + brief(json));
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!json.contains(field)) complain(who + " has no " + field);
  }
  PlacedEntry placed;
  placed.entry.name = name;

  const Json& dtype = json.at("dtype");
  if (!dtype.is_string()) complain(who + ": dtype must be a string, not " + brief(dtype));
  placed.entry.dtype = dtype.get<std::string>();
  const std::size_t element_size = element_bytes(placed.entry.dtype);
  if (element_size == 0) {
    complain(who + " has dtype " + placed.entry.dtype + "; only F32 and I64 are supported");
  }

  const Json& shape = json.at("shape");
  if (!shape.is_array()) complain(who + ": shape must be an array, not " + brief(shape));
  for (const Json& dim : shape) {
    // nlohmann parses non-negative integers as unsigned and negative ones as signed.
    if (dim.is_number_unsigned()) {
      const auto value = dim.get<std::uint64_t>();
      if (value > std::uint64_t{std::numeric_limits<std::int64_t>::max()}) {
        complain(who + " has dimension " + std::to_string(value) + ", more than 2^63 - 1");
      }
      placed.entry.shape.push_back(static_cast<std::int64_t>(value));
    } else if (dim.is_number_integer()) {
      complain(who + " has negative dimension " + brief(dim) + " in its shape");
    } else {
      complain(who + " has non-integer dimension " + brief(dim) + " in its shape");
    }
  }
  // Multiplied in the order numel() uses, so that numel() of an accepted shape cannot overflow.
  std::int64_t elements = 1;
  std::uint64_t bytes = 0;
  bool overflow = false;
  for (auto dim : placed.entry.shape) overflow = overflow || __builtin_mul_overflow(elements, dim, &elements);
  overflow = overflow || __builtin_mul_overflow(static_cast<std::uint64_t>(elements), element_size, &bytes);
  if (overflow) complain(who + " of shape " + to_string(placed.entry.shape) + " has a size beyond 64 bits");

  const Json& offsets = json.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    complain(who + ": data_offsets must be two non-negative integers, not " + brief(offsets));
  }
  placed.begin = offsets[0].get<std::uint64_t>();
  placed.end = offsets[1].get<std::uint64_t>();
  if (placed.end < placed.begin) {
    complain(who + " has data_offsets [" + std::to_string(placed.begin) + ", " + std::to_string(placed.end) +
             "] that end before they begin");
  }
  if (placed.end > buffer_bytes) {
    complain(who + " data " + range(placed.begin, placed.end) + " lies outside the " +
             std::to_string(buffer_bytes) + "-byte data buffer");
  }
  if (placed.end - placed.begin != bytes) {
    complain(who + " of shape " + to_string(placed.entry.shape) + " " + placed.entry.dtype + " needs " +
             std::to_string(bytes) + " bytes, has " + std::to_string(placed.end - placed.begin));
  }
  return placed;
}

// Sorts into file order and rejects shared bytes, which also bounds the total we allocate for the
// tensors by the size of the file.
void sort_and_check_overlap(std::vector<PlacedEntry>& placed, const Complaint& complain) {
  std::stable_sort(placed.begin(), placed.end(), [](const PlacedEntry& a, const PlacedEntry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  const PlacedEntry* previous = nullptr;  // the last tensor with data, which ends furthest
  for (const auto& current : placed) {
    if (current.begin == current.end) continue;  // empty tensors occupy no bytes
    if (previous && current.begin < previous->end) {
      complain("tensors '" + previous->entry.name + "' " + range(previous->begin, previous->end) + " and '" +
               current.entry.name + "' " + range(current.begin, current.end) + " overlap");
    }
    previous = &current;
  }
}

void read_exactly(std::ifstream& in, char* target, std::uint64_t bytes, const Complaint& complain) {
  in.read(target, static_cast<std::streamsize>(bytes));
  // The size was checked up front, so only a read error or a file changed meanwhile gets here.
  if (!in) complain.io("read failed or the file changed while being read");
}

}  // namespace

const SafetensorsEntry* SafetensorsFile::find(std::string_view name) const {
  const auto found = std::find_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.name == name; });
  return found == tensors.end() ? nullptr : &*found;
}

SafetensorsFile read_safetensors(const std::filesystem::path& file) {
  const Complaint complain(file);
  std::error_code error;
  const std::uint64_t file_bytes = std::filesystem::file_size(file, error);
  if (error) complain.io("cannot read: " + error.message());
  std::ifstream in(file, std::ios::binary);
  if (!in) complain.io("cannot open");

  constexpr std::uint64_t length_bytes = 8;
  if (file_bytes < length_bytes) {
    complain("file of " + std::to_string(file_bytes) + " bytes is too short for the 8-byte header length");
  }
  std::array<unsigned char, length_bytes> length_field{};
  read_exactly(in, reinterpret_cast<char*>(length_field.data()), length_bytes, complain);
  std::uint64_t header_bytes = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) header_bytes |= std::uint64_t{length_field[i]} << (8 * i);
  if (header_bytes > max_header_bytes) {
    complain("header of " + std::to_string(header_bytes) + " bytes exceeds the limit of 100 MiB");
  }
  if (header_bytes > file_bytes - length_bytes) {
    complain("header of " + std::to_string(header_bytes) + " bytes exceeds the " +
             std::to_string(file_bytes - length_bytes) + " bytes after the length field");
  }
  std::string header_text(header_bytes, '\0');
  read_exactly(in, header_text.data(), header_bytes, complain);
  const Header header = parse_header(header_text, complain);
  const std::uint64_t buffer_bytes = file_bytes - length_bytes - header_bytes;

  SafetensorsFile result;
  result.metadata = parse_metadata(header, complain);
  std::vector<PlacedEntry> placed;
  for (const auto& [name, json] : header.json.items()) {
    if (name != metadata_key) placed.push_back(parse_entry(name, json, buffer_bytes, complain));
  }
  sort_and_check_overlap(placed, complain);

  for (auto& [entry, begin, end] : placed) {
    const std::uint64_t bytes = end - begin;
    if (bytes == 0) continue;
    in.seekg(static_cast<std::streamoff>(length_bytes + header_bytes + begin));
    const auto elements = static_cast<std::size_t>(bytes / element_bytes(entry.dtype));
    char* target = nullptr;
    if (entry.dtype == "F32") {
      entry.f32.resize(elements);
      target = reinterpret_cast<char*>(entry.f32.data());
    } else {
      entry.i64.resize(elements);
      target = reinterpret_cast<char*>(entry.i64.data());
    }
    read_exactly(in, target, bytes, complain);
  }
  result.tensors.reserve(placed.size());
  for (auto& p : placed) result.tensors.push_back(std::move(p.entry));
  return result;
}

void write_safetensors(const std::filesystem::path& file,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata,
                       const std::set<std::string>& integer_tensors) {
  const auto misuse = [&](const std::string& what) {
    throw Error(ErrorCode::internal, file.string() + ": cannot write safetensors: " + what);
  };
  // The header is assembled as text because nlohmann's maps would either sort the entries or,
  // ordered, look keys up linearly; dump() still does the escaping.
  std::string header = "{";
  try {
    if (!metadata.empty()) {
      nlohmann::ordered_json values = nlohmann::ordered_json::object();
      for (const auto& [key, value] : metadata) {
        if (values.contains(key)) misuse("metadata key '" + key + "' given twice");
        values[key] = value;
      }
      header += Json(metadata_key).dump() + ":" + values.dump();
    }
    std::set<std::string_view> names;
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
      if (!tensor) misuse(tensor_named(name) + " is null");
      if (name == metadata_key) misuse("a tensor may not be named " + name);
      if (!names.insert(name).second) misuse(tensor_named(name) + " given twice");
      const Shape& shape = tensor->shape();
      if (std::any_of(shape.begin(), shape.end(), [](auto dim) { return dim < 0; }) ||
          static_cast<std::int64_t>(tensor->values().size()) != numel(shape)) {
        misuse(tensor_named(name) + " of shape " + to_string(shape) + " holds " +
               std::to_string(tensor->values().size()) + " values");
      }
      const bool integer = integer_tensors.count(name) > 0;
      const std::uint64_t end = offset + tensor->values().size() * (integer ? sizeof(std::int64_t) : sizeof(float));
      Json entry = {{"dtype", integer ? "I64" : "F32"}, {"shape", shape}, {"data_offsets", Json::array({offset, end})}};
      if (header.size() > 1) header += ",";
      header += Json(name).dump() + ":" + entry.dump();
      offset = end;
    }
  } catch (const Json::exception& e) {  // names or metadata that are not valid UTF-8
    misuse(e.what());
  }
  header += "}";
  // Keeps the data 8-byte aligned in the file, as the reference implementation does.
  header.append((8 - header.size() % 8) % 8, ' ');

  write_file_atomic(file, [&](std::ostream& out) {
    std::array<char, 8> length_field{};
    for (std::size_t i = 0; i < length_field.size(); ++i) {
      length_field[i] = static_cast<char>((std::uint64_t{header.size()} >> (8 * i)) & 0xff);
    }
    out.write(length_field.data(), length_field.size());
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& [name, tensor] : tensors) {
      if (integer_tensors.count(name)) {
        // Counts kept in floats, written as PyTorch's int64 (little-endian, as the format is).
        std::vector<std::int64_t> values;
        for (float v : tensor->values()) values.push_back(static_cast<std::int64_t>(std::llround(v)));
        out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(std::int64_t)));
        continue;
      }
      out.write(reinterpret_cast<const char*>(tensor->data()),
                static_cast<std::streamsize>(tensor->values().size() * sizeof(float)));
    }
  });
}

}  // namespace pipeline
