// The privacy a run has spent, round by round: what the round loop asks before a round (would it exceed the
// budget?) and tells after it (these clients' updates were released). One interface for central DP (one
// sampled Gaussian mechanism for the whole federation, privacy/CentralDp.h) and local DP (every client
// noises its own update, each group with its own noise, privacy/LocalDp.h). Torch-free.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace fedwb {

class FederationSpec;

namespace privacy {

class PrivacyLedger {
public:
    virtual ~PrivacyLedger() = default;
    // Epsilon (at privacy.delta) once round `round` is released with the updates of `releasing` (client
    // ids, ascending) in it: what the budget check compares with privacy.target_epsilon.
    virtual double epsilonAfterRound(int round, const std::vector<int> &releasing) const = 0;
    // The round is released.
    virtual void record(int round, const std::vector<int> &releasing) = 0;
    virtual double epsilon() const = 0; // so far (0 before the first round)
    // Epsilon of each group so far ({"phones": 1.2, ...}); empty when one epsilon covers all.
    virtual QJsonObject epsilonByGroup() const { return {}; }
    // What a continued run needs (in the RunState); load is given the rounds already done.
    virtual QJsonValue saveState() const { return {}; }
    virtual void loadState(const QJsonValue &state, int roundsDone) = 0; // throws std::invalid_argument

    double targetEpsilon = 0; // privacy.target_epsilon (0: no budget)
    bool stopAtBudget = false;
};

// The ledger of a workspace's privacy.mode (nullptr for none). Throws std::invalid_argument for settings
// the accountant refuses (validation keeps them out).
std::unique_ptr<PrivacyLedger> privacyLedgerFor(const FederationSpec &spec);

// What a workspace's privacy will cost if it runs all run.rounds: central DP's epsilon after every round;
// local DP's per group for a client of it that takes part in every round (the worst case), and the worst
// group's as the overall value. What the designer and `fedwb-cli validate` show before a run.
struct PlannedPrivacy {
    QString mode; // "central" | "local"
    int rounds = 0;
    double delta = 0;
    double epsilon = 0;
    QList<QPair<QString, double>> byGroup; // local DP only
    QString text() const;                  // "epsilon after 30 rounds <= 6.33 at delta 1e-05 (central DP)"
};
std::optional<PlannedPrivacy> plannedPrivacy(const FederationSpec &spec); // nullopt without DP

} // namespace privacy
} // namespace fedwb
