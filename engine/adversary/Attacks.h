// The attacks a client group can run (registry category "behaviour"), and the pieces they are made of:
//   update attacks   sign-flip, scale, gaussian-noise: client update stages (also registered in category
//                    "update-stage") that run first on the attacker's update;
//   coordinated      alie ("a little is enough"): the attackers of a round craft one update together;
//   data poisoning   label-flip, backdoor: local training sees changed samples (the backdoor may also boost
//                    its update: model replacement).
// Torch-free.
#pragma once

#include <QString>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace fedwb {

class Registry;

// A label-flip mapping: the class each class becomes. `text` is "reverse" (c -> classes - 1 - c) or pairs
// "from:to" separated by commas ("0:9, 1:8"); classes not named keep their label. nullopt (and *error, the
// problem in words) for a malformed mapping, a class outside [0, classes) or a class mapped twice.
std::optional<std::vector<int>> parseLabelMapping(const QString &text, int classes, QString *error = nullptr);

// ALIE's z_max (Baruch, Baruch, Goldberg 2019, Algorithm 3) for n clients in the round, m of them attackers:
// s = floor(n / 2 + 1) - m honest "supporters" are needed; z_max = Phi^-1((n - m - s) / (n - m)), Phi the
// standard normal CDF. Never negative: 0 when that quantile is at or below the median (the attack gains
// nothing) or no client is honest; s is at least 1 (attackers that are a majority on their own still
// stay within the honest spread).
double alieZMax(int n, int m);

// ALIE's crafted update: every coordinate of every update becomes mean - z * std of that coordinate over
// `updates` (std: the sample standard deviation, divided by m - 1; 0 for a single update). In double.
void alieCraft(std::span<const std::span<float>> updates, double z);

// How many of a backdoor client's n samples are poisoned: poison_fraction * n rounded to the nearest
// integer, halves up (0.5 of 5 samples poisons 3).
std::int64_t backdoorPoisonCount(std::int64_t n, double fraction);

// The inverse of the standard normal CDF for p in (0, 1) (bisection on erfc to double precision).
double standardNormalQuantile(double p);

// Registers the attack behaviours and their update stages.
void registerAttacks(Registry &registry);

} // namespace fedwb
