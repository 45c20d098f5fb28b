// Rng: a small, fully specified generator (xoshiro256**, seeded through splitmix64). The standard
// library's distributions differ between implementations; these give the same numbers everywhere.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  // The full state, to save and restore a generator mid-sequence.
  std::array<std::uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  static Rng from_state(const std::array<std::uint64_t, 4>& state);

  std::uint64_t next();
  std::uint64_t uniform_int(std::uint64_t n);  // in [0, n), unbiased
  double uniform();                            // in [0, 1)
  float uniform(float lo, float hi);
  double normal();                             // mean 0, standard deviation 1

  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_int(i)]);
  }

 private:
  std::uint64_t s_[4];
};

// A stable 64-bit mix of a seed and a name (FNV-1a of the name, then splitmix64); used to derive
// independent seeds, e.g. per stage from the experiment seed.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view name);

}  // namespace pipeline
