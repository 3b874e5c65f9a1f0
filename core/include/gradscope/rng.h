#pragma once
// A small portable generator: splitmix64 seeding a xoshiro256** stream, normals by the
// Marsaglia polar method in double. The same seed gives the same numbers on every machine
// (only IEEE sqrt and log are involved, and no fused multiply-add).
#include <cstdint>

namespace gs {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next_u64();
  double uniform();                  // [0, 1)
  uint32_t below(uint32_t n);        // [0, n)
  double normal(double mean, double std);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace gs
