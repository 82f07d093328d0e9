// Seeded randomness that gives the same numbers on every machine and standard library:
// SplitMix64 for streams, and a stateless hash for per-element masks that kernels can recompute.
#pragma once
#include <cstdint>

namespace cnnc::rt {

class Rng {
  public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 random bits; never depends on the library's distributions.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n).
    uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }
    double normal();  // standard normal (Box-Muller)

  private:
    uint64_t s_;
};

// A new stream for a named purpose (initialization of layer 3, shuffling of epoch 5...).
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
    Rng r(seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full));
    return r.next();
}

}  // namespace cnnc::rt
