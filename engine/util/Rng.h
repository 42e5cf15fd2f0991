// Deterministic random numbers keyed by (seed, purpose, round, client). No shared mutable RNG state exists in
// the engine: every draw comes from a generator made for its purpose, so the order in which clients are
// trained cannot change a result. Distributions are implemented here (not <random>'s) so that results are the
// same with every standard library.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace fedwb {

// A 64-bit key for a generator: mixes the run seed, a purpose name and two indices.
std::uint64_t deriveSeed(std::uint64_t seed, std::string_view purpose, std::int64_t a = -1,
                         std::int64_t b = -1);

class Rng {
public:
    explicit Rng(std::uint64_t key);
    Rng(std::uint64_t seed, std::string_view purpose, std::int64_t a = -1, std::int64_t b = -1)
        : Rng(deriveSeed(seed, purpose, a, b)) {}

    std::uint64_t next();                 // xoshiro256**
    double uniform();                     // [0, 1)
    std::uint64_t below(std::uint64_t n); // uniform integer in [0, n), unbiased
    double normal();                      // standard normal
    double normal(double mean, double stddev) { return mean + stddev * normal(); }
    double gamma(double shape); // Gamma(shape, 1), shape > 0
    double lognormal(double mean, double sigma);
    std::vector<double> dirichlet(double alpha, int k);

    template <typename T> void shuffle(std::vector<T> &v) {
        for (std::size_t i = v.size(); i > 1; --i) {
            std::size_t j = std::size_t(below(i));
            std::swap(v[i - 1], v[j]);
        }
    }

private:
    std::uint64_t s[4];
    bool m_hasSpare = false;
    double m_spare = 0.0;
};

} // namespace fedwb
