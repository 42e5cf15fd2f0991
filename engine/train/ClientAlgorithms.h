// Client algorithms: the hooks a strategy runs inside each client's local training (FedProx's proximal
// term, SCAFFOLD's control variates, Ditto's personal model, FedBN/FedPer's personal segments). Each one is
// a registry entry of category "client-algorithm"; the hook interface itself is engine-internal
// (train/algorithm_p.h, torch).
#pragma once

namespace fedwb {

// Registers every built-in client algorithm — defined with the algorithms (engine library).
void registerClientAlgorithms();

} // namespace fedwb
