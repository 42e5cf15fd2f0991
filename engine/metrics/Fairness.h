// Fairness of per-client accuracy across the federation.
#pragma once

#include <vector>

namespace fedwb {

struct Fairness {
    double mean = 0;
    double std = 0;     // population standard deviation
    double worst10 = 0; // mean of the worst ceil(10% of clients) values (at least one client)
    double best10 = 0;  // mean of the best ceil(10% of clients) values
    double jain = 0;    // Jain's index (sum x)^2 / (n sum x^2), 1 when all equal; 0 when every value is 0
};

Fairness computeFairness(const std::vector<double> &values);

} // namespace fedwb
