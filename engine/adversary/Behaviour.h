// Client-group behaviours: how the clients of a group act in a round. Each behaviour is a registry entry of
// category "behaviour" (schema, plain-language explanation, capabilities); a group names one with its
// parameters (clients.groups[i].behaviour). "honest" trains and reports faithfully; "dropout" disappears
// after being selected (its update never arrives). Torch-free.
#pragma once

#include "spec/FederationSpec.h"

#include <cstdint>

namespace fedwb {

class Registry;

// Capability of a behaviour whose clients may vanish after selection (param "probability").
inline constexpr char kDropsOut[] = "drops-out";

// Whether a client of a group with `behaviour` drops out of `round`: one draw from the generator keyed
// (seed, "dropout", round, client) against the behaviour's probability; false for behaviours that never do.
bool dropsOut(const BehaviourRef &behaviour, std::uint64_t seed, int round, int clientId);

void registerBehaviours(Registry &registry);

} // namespace fedwb
