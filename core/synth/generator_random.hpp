#pragma once
// The generator's randomness (internal to core/synth/).
// Randomness: splitmix64 to derive independent stream keys, xoshiro256** per stream.
// A stream is keyed by (seed, purpose, a, b), so any record can be drawn alone, in any
// order, on any thread, and come out the same.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace kvtier::synth {

inline uint64_t splitmix64(uint64_t& x)
{
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

enum Purpose : uint64_t {
    kRecord = 1, kBursts = 2, kFocus = 3, kHeavyShared = 4, kHeavyOwn = 5, kStatic = 6,
    kExperts = 7,        // expert routing (expert_routing.cpp)
    kSequence = 8,       // the seed of sequence s > 0 of a batch (docs/GENERATOR.md "Batches")
    kPrefill = 9,        // P_s of a batch with prefill_spread > 0
    kSharedPrefix = 10,  // the seed of the shared prefix's heavy hitters and static relevance
};

inline uint64_t streamKey(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    uint64_t s = seed;
    uint64_t h = splitmix64(s);
    for (uint64_t part : {purpose, a, b}) {
        s = h ^ (part * 0xD6E8FEB86659FD93ULL);
        h = splitmix64(s);
    }
    return h;
}

// The seed every stream of sequence s draws from: the trace's seed for sequence 0 (so a
// one-sequence trace is what it always was), a derived one for s > 0. Depends on s only,
// never on the number of sequences.
inline uint64_t sequenceSeed(uint64_t seed, int32_t s)
{
    return s == 0 ? seed : streamKey(seed, kSequence, static_cast<uint64_t>(s), 0);
}

class Rng {
public:
    explicit Rng(uint64_t key)
    {
        for (auto& w : s_) w = splitmix64(key);
    }
    uint64_t next()
    {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // [0, 1)
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // (0, 1]
    double uniformPositive() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
    // Integer in [lo, hi].
    int64_t between(int64_t lo, int64_t hi)
    {
        const auto span = static_cast<uint64_t>(hi - lo) + 1;
        return lo + static_cast<int64_t>(next() % span);   // bias < 2^-40 for our spans
    }
    // Standard normal, Box-Muller; the second value of each pair is kept for next time.
    double normal()
    {
        if (hasSpare_) {
            hasSpare_ = false;
            return spare_;
        }
        const double r = std::sqrt(-2.0 * std::log(uniformPositive()));
        const double a = 2.0 * std::numbers::pi * uniform();
        spare_ = r * std::sin(a);
        hasSpare_ = true;
        return r * std::cos(a);
    }
    int poisson(double lambda)
    {
        const double limit = std::exp(-lambda);
        int k = 0;
        double prod = uniform();
        while (prod > limit) {
            ++k;
            prod *= uniform();
        }
        return k;
    }
    // Geometric on {1, 2, ...} with the given mean (>= 1).
    int64_t geometric(double mean)
    {
        if (mean <= 1.0) return 1;
        const double q = 1.0 - 1.0 / mean;
        return 1 + static_cast<int64_t>(std::floor(std::log(uniformPositive()) / std::log(q)));
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
    double spare_ = 0;
    bool hasSpare_ = false;
};

// k distinct values drawn from `pool` (partial Fisher-Yates), ascending.
inline std::vector<uint32_t> sampleDistinct(std::vector<uint32_t> pool, size_t k, Rng& rng)
{
    k = std::min(k, pool.size());
    for (size_t i = 0; i < k; ++i) {
        const auto j = static_cast<size_t>(rng.between(static_cast<int64_t>(i), static_cast<int64_t>(pool.size()) - 1));
        std::swap(pool[i], pool[j]);
    }
    pool.resize(k);
    std::sort(pool.begin(), pool.end());
    return pool;
}

} // namespace kvtier::synth
