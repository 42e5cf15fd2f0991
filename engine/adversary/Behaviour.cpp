#include "adversary/Behaviour.h"

#include "adversary/Attacks.h"
#include "spec/Registry.h"
#include "util/Rng.h"

#include <stdexcept>

namespace fedwb {

Behaviour::~Behaviour() = default;

std::shared_ptr<const Behaviour> makeBehaviour(const BehaviourRef &ref) {
    const ComponentSchema *c = Registry::global().component(QStringLiteral("behaviour"), ref.name);
    if (!c) throw std::invalid_argument("unknown behaviour '" + ref.name.toStdString() + "'");
    if (const auto *factory = std::any_cast<BehaviourFactory>(&c->factory)) return (*factory)(ref.params);
    static const auto honest = std::make_shared<const Behaviour>();
    return honest; // no hooks of its own (honest, dropout: the round loop reads its capability)
}

bool dropsOut(const BehaviourRef &behaviour, std::uint64_t seed, int round, int clientId) {
    const ComponentSchema *c = Registry::global().component(QStringLiteral("behaviour"), behaviour.name);
    if (!c || !c->has(QLatin1String(kDropsOut))) return false;
    const double p = behaviour.params.value(QStringLiteral("probability")).toDouble();
    if (p <= 0) return false;
    Rng rng(seed, "dropout", round, clientId);
    return rng.uniform() < p;
}

void registerBehaviours(Registry &registry) {
    ComponentSchema honest =
        ComponentSchema::make(QStringLiteral("behaviour"), QStringLiteral("honest"), QStringLiteral("Honest"),
                              QStringLiteral("Trains on its own data and reports its update faithfully."));
    honest.explanation = QStringLiteral("The clients do what the protocol asks: the baseline every other "
                                        "behaviour is compared with.");
    registry.addComponent(std::move(honest));

    ComponentSchema dropout = ComponentSchema::make(
        QStringLiteral("behaviour"), QStringLiteral("dropout"), QStringLiteral("Dropping out"),
        QStringLiteral("Each round, a selected client of this group disappears with this probability: its "
                       "update never arrives."),
        {explained(
            realParam(QStringLiteral("probability"), 0.5, 0.0, 1.0,
                      QStringLiteral("Chance that a selected client drops out of a round (0 = never, 1 = "
                                     "always).")),
            QStringLiteral("Each time a client of this group is selected, it fails to answer with this "
                           "chance, independently of other rounds. 0.1 is a fairly reliable fleet, 0.5 a "
                           "very unreliable one; at 1 the group never contributes, though its clients "
                           "are still selected and use up places in the round."))});
    dropout.explanation = QStringLiteral(
        "Phones lose their connection, run out of battery or are switched off mid-round. A client that "
        "drops out was selected and received the model, but the server never hears back from it, so the "
        "round is aggregated from the others. With secure aggregation the dropped clients' masks are "
        "recovered from the shares their neighbours hold.");
    dropout.capabilities = {QLatin1String(kDropsOut)};
    registry.addComponent(std::move(dropout));

    registerAttacks(registry);
}

} // namespace fedwb
