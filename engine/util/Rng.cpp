#include "util/Rng.h"

#include <cmath>
#include <numbers>

namespace fedwb {

namespace {

std::uint64_t splitmix64(std::uint64_t &x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

} // namespace

std::uint64_t deriveSeed(std::uint64_t seed, std::string_view purpose, std::int64_t a, std::int64_t b) {
    std::uint64_t h = 0xcbf29ce484222325ull; // FNV-1a of the purpose
    for (unsigned char c : purpose)
        h = (h ^ c) * 0x100000001b3ull;
    std::uint64_t x = seed;
    std::uint64_t k = splitmix64(x) ^ h;
    x = k;
    k = splitmix64(x) ^ std::uint64_t(a);
    x = k;
    k = splitmix64(x) ^ std::uint64_t(b);
    x = k;
    return splitmix64(x);
}

Rng::Rng(std::uint64_t key) {
    std::uint64_t x = key;
    for (auto &v : s)
        v = splitmix64(x);
}

std::uint64_t Rng::next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double Rng::uniform() {
    return double(next() >> 11) * 0x1.0p-53;
}

std::uint64_t Rng::below(std::uint64_t n) {
    if (n <= 1) return 0;
    // Draws at or above limit = 2^64 - 1 - (2^64 - 1) % n are rejected. limit > 2^64 - 1 - n, so a draw below
    // 2^64 - n is accepted without computing it (one division per draw instead of two, same numbers).
    const std::uint64_t sure = std::uint64_t(0) - n;
    std::uint64_t r = next();
    if (r >= sure) {
        const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
        while (r >= limit)
            r = next();
    }
    return r % n;
}

double Rng::normal() {
    if (m_hasSpare) {
        m_hasSpare = false;
        return m_spare;
    }
    double u1;
    do
        u1 = uniform();
    while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 2.0 * std::numbers::pi * u2;
    m_spare = r * std::sin(t);
    m_hasSpare = true;
    return r * std::cos(t);
}

double Rng::gamma(double shape) {
    // Marsaglia & Tsang (2000); shape < 1 via the boost Gamma(a) = Gamma(a + 1) * U^(1/a).
    if (shape < 1.0) {
        double u;
        do
            u = uniform();
        while (u <= 0.0);
        return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = normal();
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = uniform();
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
}

double Rng::lognormal(double mean, double sigma) {
    return std::exp(normal(mean, sigma));
}

std::vector<double> Rng::dirichlet(double alpha, int k) {
    std::vector<double> p(static_cast<std::size_t>(k));
    double sum = 0;
    for (double &v : p)
        sum += (v = gamma(alpha));
    if (sum <= 0) { // all draws underflowed (tiny alpha): the mass goes to one component
        p.assign(std::size_t(k), 0.0);
        p[std::size_t(below(std::uint64_t(k)))] = 1.0;
        return p;
    }
    for (double &v : p)
        v /= sum;
    return p;
}

} // namespace fedwb
