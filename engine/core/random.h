// A small, fast, reproducible random number generator (xoshiro256++ seeded by SplitMix64) with
// standard normal variates by Box-Muller. Used instead of <random> distributions so that streams
// are identical across standard libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace geotps {

inline std::uint64_t splitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  /// Stream `stream` of seed `seed`: distinct streams are statistically independent.
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) {
    std::uint64_t sm = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
    for (auto& w : s_) w = splitMix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in (0, 1): never exactly 0, so log() is safe.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  /// Two independent standard normal variates.
  void normalPair(double& a, double& b) {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double t = 2.0 * std::numbers::pi * uniform();
    a = r * std::cos(t);
    b = r * std::sin(t);
  }

  double normal() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double a, b;
    normalPair(a, b);
    spare_ = b;
    hasSpare_ = true;
    return a;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool hasSpare_ = false;
};

}  // namespace geotps
