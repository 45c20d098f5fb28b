// A cache entry's manifest (with a matching checksum, so every field check is reached): reading
// it, listing the cache, and looking the entry up as `run`, `cache ls` and `gc` do.
#include "fuzz_support.hpp"
#include "run/cache.hpp"
#include "util/sha256.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string key(64, 'a');
  const auto root = fuzz::scratch() / "cache";
  const auto entry = root / "aa" / key;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::write_file(entry / "manifest.json", data, size);
  const std::string sum = pipeline::sha256_hex(text);
  fuzz::write_file(entry / "manifest.sha256", reinterpret_cast<const std::uint8_t*>(sum.data()), sum.size());
  fuzz::write_file(entry / "out" / "metrics.json", reinterpret_cast<const std::uint8_t*>("{}"), 2);
  const pipeline::Cache cache(root);
  fuzz::expect_clean([&] { cache.read_manifest(key); });
  fuzz::expect_clean([&] {
    cache.has_valid(key);
    for (const auto& e : cache.entries()) (void)e.manifest.find("stage");
  });
  return 0;
}
