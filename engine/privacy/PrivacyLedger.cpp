#include "privacy/PrivacyLedger.h"

#include "privacy/Accountant.h"
#include "privacy/LocalDp.h"
#include "spec/FederationSpec.h"

#include <QJsonArray>

#include <algorithm>
#include <stdexcept>

namespace fedwb::privacy {

namespace {

// Central DP: one sampled Gaussian mechanism per round, whoever took part.
class CentralLedger : public PrivacyLedger {
public:
    CentralLedger(Sampling sampling, double q, double z, double delta)
        : m_accountant(sampling, q, z, delta) {}
    double epsilonAfterRound(int round, const std::vector<int> &) const override {
        return m_accountant.epsilonAfter(round).epsilon;
    }
    void record(int, const std::vector<int> &) override { m_accountant.step(); }
    double epsilon() const override { return m_accountant.epsilon(); }
    void loadState(const QJsonValue &, int roundsDone) override {
        m_accountant.step(roundsDone - m_accountant.rounds()); // a function of the rounds alone
    }

private:
    PrivacyAccountant m_accountant;
};

// Local DP: every client's releases counted; a group's epsilon is its most-released client's.
class LocalLedger : public PrivacyLedger {
public:
    LocalLedger(const FederationSpec &spec)
        : m_delta(spec.real(QStringLiteral("privacy.delta")))
        , m_released(std::size_t(spec.clientCount()), 0) {
        const QList<LocalGroupPrivacy> privacy = localPrivacyOf(spec);
        const QList<ClientGroup> groups = spec.groups();
        for (qsizetype g = 0; g < groups.size(); ++g) {
            m_groups.push_back(
                {groups[g].name, privacy[g].noiseMultiplier, groups[g].firstClient, groups[g].count});
        }
    }
    double epsilonAfterRound(int, const std::vector<int> &releasing) const override {
        std::vector<std::int64_t> counts = m_released;
        for (int id : releasing)
            ++counts[std::size_t(id)];
        double worst = 0;
        for (const Group &g : m_groups)
            worst = std::max(worst, epsilonOf(g, counts));
        return worst;
    }
    void record(int, const std::vector<int> &releasing) override {
        for (int id : releasing)
            ++m_released[std::size_t(id)];
    }
    double epsilon() const override { return epsilonAfterRound(0, {}); }
    QJsonObject epsilonByGroup() const override {
        QJsonObject o;
        for (const Group &g : m_groups)
            o.insert(g.name, epsilonOf(g, m_released));
        return o;
    }
    QJsonValue saveState() const override {
        QJsonArray counts;
        for (std::int64_t c : m_released)
            counts.append(qint64(c));
        return counts;
    }
    void loadState(const QJsonValue &state, int roundsDone) override {
        if (state.isUndefined() && roundsDone == 0) return;
        const QJsonArray counts = state.toArray();
        if (counts.size() != qsizetype(m_released.size()))
            throw std::invalid_argument("the run state has no local-DP release counts for these clients");
        for (qsizetype i = 0; i < counts.size(); ++i) {
            const qint64 c = counts[i].isDouble() ? counts[i].toInteger(-1) : -1;
            if (c < 0 || c > roundsDone)
                throw std::invalid_argument("the run state's local-DP release counts are damaged");
            m_released[std::size_t(i)] = c;
        }
    }

private:
    struct Group {
        QString name;
        double z;
        int first, count;
    };
    double epsilonOf(const Group &g, const std::vector<std::int64_t> &counts) const {
        const auto begin = counts.begin() + g.first;
        const std::int64_t most = g.count > 0 ? *std::max_element(begin, begin + g.count) : 0;
        return localEpsilon(g.z, most, m_delta);
    }
    double m_delta;
    std::vector<Group> m_groups;
    std::vector<std::int64_t> m_released;
};

} // namespace

std::unique_ptr<PrivacyLedger> privacyLedgerFor(const FederationSpec &spec) {
    const QString mode = spec.string(QStringLiteral("privacy.mode"));
    std::unique_ptr<PrivacyLedger> ledger;
    if (mode == QLatin1String("central"))
        ledger = std::make_unique<CentralLedger>(
            spec.poissonSampling() ? Sampling::Poisson : Sampling::FixedSize, spec.samplingRate(),
            spec.real(QStringLiteral("privacy.noise_multiplier")),
            spec.real(QStringLiteral("privacy.delta")));
    else if (mode == QLatin1String("local"))
        ledger = std::make_unique<LocalLedger>(spec);
    else
        return nullptr;
    ledger->targetEpsilon = spec.real(QStringLiteral("privacy.target_epsilon"));
    ledger->stopAtBudget = spec.boolean(QStringLiteral("privacy.stop_at_budget"));
    return ledger;
}

std::optional<PlannedPrivacy> plannedPrivacy(const FederationSpec &spec) {
    std::unique_ptr<PrivacyLedger> ledger = privacyLedgerFor(spec);
    if (!ledger) return std::nullopt;
    PlannedPrivacy p;
    p.mode = spec.string(QStringLiteral("privacy.mode"));
    p.rounds = spec.rounds();
    p.delta = spec.real(QStringLiteral("privacy.delta"));
    std::vector<int> everyone(std::size_t(spec.clientCount()));
    for (int i = 0; i < spec.clientCount(); ++i)
        everyone[std::size_t(i)] = i;
    for (int r = 1; r <= p.rounds; ++r) // central: a function of the round count; local: of the releases
        ledger->record(r, everyone);
    p.epsilon = ledger->epsilon();
    const QJsonObject byGroup = ledger->epsilonByGroup();
    for (const ClientGroup &g : spec.groups())
        if (byGroup.contains(g.name)) p.byGroup.append({g.name, byGroup.value(g.name).toDouble()});
    return p;
}

QString PlannedPrivacy::text() const {
    QString t = QStringLiteral("epsilon after %1 rounds <= %2 at delta %3 (%4 DP)")
                    .arg(rounds)
                    .arg(epsilon, 0, 'g', 3)
                    .arg(delta, 0, 'g', 3)
                    .arg(mode);
    if (byGroup.size() > 1) {
        QStringList parts;
        for (const auto &[name, eps] : byGroup)
            parts.append(QStringLiteral("%1 %2").arg(name).arg(eps, 0, 'g', 3));
        t += QStringLiteral("; by group, for a client in every round: ") + parts.join(QStringLiteral(", "));
    }
    return t;
}

} // namespace fedwb::privacy
