// Internal to engine/strategy: the concrete strategies' constructors (registered in Strategy.cpp) and the
// helpers they share (update checks, the weighted mean, state blobs).
#pragma once

#include "strategy/Strategy.h"

#include <QCborMap>

#include <memory>
#include <span>
#include <vector>

namespace fedwb::strategy_p {

// --- Shared helpers ---------------------------------------------------------------------------------------

// Throws std::invalid_argument (the message starts with `who`) when an update's delta has another size than
// the model's, or its weight is negative or not finite. Strategies call it before touching any state.
void checkUpdates(const char *who, std::size_t size, const std::vector<ClientUpdate> &updates);

// sum_k w_k delta_k / sum_k w_k in double, in the given order (w_k = the update's weight, or 1 when
// `uniform`). Empty when there are no updates or the weights sum to 0.
std::vector<double> weightedMean(const std::vector<ClientUpdate> &updates, std::size_t size, bool uniform);

// The round's mean for a strategy with the capability "private-mean": the privacy mechanism's when the round
// has one (context.privateMean), else weightedMean(updates, size, uniform).
std::vector<double> roundMean(const std::vector<ClientUpdate> &updates, std::size_t size, bool uniform,
                              const RoundContext &context);

// global[i] = float(global[i] + delta[i]) for every i where `keep` is empty or keep[i] is false.
void addToGlobal(std::span<float> global, const std::vector<double> &delta,
                 const std::vector<bool> &keep = {});

// State blobs are CBOR maps {"kind": strategy name, "version": n, ...}; vectors of doubles are stored as
// their little-endian bytes, so save -> load is bit-exact.
QCborMap newState(const QString &kind, int version);
// The map in `blob` when it was written by newState(kind, version); throws std::invalid_argument otherwise.
QCborMap openState(const QByteArray &blob, const QString &kind, int version);
QByteArray packDoubles(const std::vector<double> &values);
// The doubles stored under `key`; throws std::invalid_argument when absent or malformed.
std::vector<double> unpackDoubles(const QCborMap &state, const QString &key, const QString &kind);
// The state of a strategy that keeps one vector (FedAvgM's momentum, SCAFFOLD's control variate).
QByteArray saveVectorState(const QString &kind, const QString &key, const std::vector<double> &values);
std::vector<double> loadVectorState(const QByteArray &blob, const QString &kind, const QString &key);
// Throws std::invalid_argument when a (non-empty) state vector does not match the model's size.
void checkStateSize(const char *who, const std::vector<double> &state, std::size_t size);

// --- The strategies
// -----------------------------------------------------------------------------------------

// FedAvg on the server with another client algorithm (FedProx, Ditto).
std::unique_ptr<Strategy> makeFedAvgWithClientAlgorithm(const ClientAlgorithmRef &algorithm);
// FedAvg over every coordinate outside the personal segments, which stay on the clients (FedBN, FedPer).
enum class PersonalSegments { BatchNorm, Head };
std::unique_ptr<Strategy> makePersonalSegments(PersonalSegments segments);
std::unique_ptr<Strategy> makeFedNova();
std::unique_ptr<Strategy> makeQFedAvg(double q, double lipschitz = 0);
std::unique_ptr<Strategy> makeScaffold(double serverLr);

std::unique_ptr<Strategy> makeFedAvgM(double serverLr, double momentum);
enum class AdaptiveKind { Adagrad, Adam, Yogi };
std::unique_ptr<Strategy> makeAdaptive(AdaptiveKind kind, double serverLr, double tau, double beta1,
                                       double beta2);

// selected = 0 picks n - f (multi-Krum); `multi` false is Krum (one update).
std::unique_ptr<Strategy> makeKrum(int byzantine, int selected, bool multi);
std::unique_ptr<Strategy> makeMedian();
std::unique_ptr<Strategy> makeTrimmedMean(double beta);
std::unique_ptr<Strategy> makeBulyan(int byzantine);
std::unique_ptr<Strategy> makeNormBounded(double maxNorm);

} // namespace fedwb::strategy_p
