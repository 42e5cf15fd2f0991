// Client-group behaviours: how the clients of a group act in a round. Each behaviour is a registry entry of
// category "behaviour" (schema, plain-language explanation, capabilities, a factory); a group names one with
// its parameters (clients.groups[i].behaviour). "honest" trains and reports faithfully; "dropout" disappears
// after being selected (its update never arrives); the attacks (engine/adversary/Attacks.h) poison the local
// training data, change the update before it leaves the client, or craft the updates of a round together.
// Torch-free.
#pragma once

#include "spec/FederationSpec.h"
#include "strategy/UpdateStage.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

namespace fedwb {

class Registry;

// Capability of a behaviour whose clients may vanish after selection (param "probability").
inline constexpr char kDropsOut[] = "drops-out";

// Whether a client of a group with `behaviour` drops out of `round`: one draw from the generator keyed
// (seed, "dropout", round, client) against the behaviour's probability; false for behaviours that never do.
bool dropsOut(const BehaviourRef &behaviour, std::uint64_t seed, int round, int clientId);

// A poisoning client's own copy of its training samples, as local training will see them: `inputs` holds
// one row of `features` floats per sample (an image row is channels x height x width), `labels` one class
// per sample.
struct LocalSamples {
    std::span<float> inputs;
    std::span<std::int64_t> labels;
    int features = 0;
    int channels = 0, height = 0, width = 0; // all 0 for data that are no images
    int classes = 0;
    // How the dataset stores an image pixel of intensity v in [0, 1] (0 black, 1 white): (v - offset) /
    // scale.
    float pixelOffset = 0, pixelScale = 1;
    std::size_t count() const { return labels.size(); }
    std::span<float> row(std::size_t i) const {
        return inputs.subspan(i * std::size_t(features), std::size_t(features));
    }
};

// A square of trigger pixels in one corner of an image: what a backdoor stamps on its poisoned samples and
// what the attack success rate is measured with.
struct BackdoorTrigger {
    int targetClass = 0;
    int size = 3;                                    // side of the square, in pixels
    double value = 1.0;                              // pixel intensity in [0, 1]
    QString corner = QStringLiteral("bottom-right"); // top-left, top-right, bottom-left, bottom-right
    // Sets the square's pixels of every channel of `image` (channels x height x width, stored as the
    // dataset stores pixels: (value - pixelOffset) / pixelScale).
    void stamp(std::span<float> image, int channels, int height, int width, float pixelOffset,
               float pixelScale) const;
};

// What a coordinated behaviour knows about its round.
struct Coordination {
    int round = 0;
    int answered = 0; // clients whose updates reach the server this round (n), the group's own included
};

// How a behaviour acts; one instance serves a whole run (it holds its parameters, no per-round state).
// Every hook has an honest default.
class Behaviour {
public:
    virtual ~Behaviour();
    // Client-side update stages this behaviour's clients run first on their update, before the strategy's
    // own (the client chain is adversary -> clip -> local noise -> compress -> mask).
    virtual QList<StageRef> updateStages() const { return {}; }
    // Data poisoning inside local training: true when poison() changes the client's copy of its samples.
    virtual bool poisonsData() const { return false; }
    // Changes `samples` before local training; random draws come from generators derived from `key`, the
    // task's own key (keyed by seed, round and client).
    virtual void poison(LocalSamples & /*samples*/, std::uint64_t /*key*/) const {}
    // Coordinated attacks act across the group's clients within a round: after they trained honestly,
    // coordinate() rewrites the updates of those that answered (in client-id order) before any client
    // update stage runs on them.
    virtual bool coordinated() const { return false; }
    virtual void coordinate(std::span<const std::span<float>> /*updates*/, const Coordination &) const {}
    // The backdoor this behaviour plants, if any: the round loop measures its attack success rate.
    virtual std::optional<BackdoorTrigger> backdoor() const { return std::nullopt; }
};

// A behaviour's factory as registered in its ComponentSchema (category "behaviour"); params are validated
// and defaulted. An entry without a factory behaves honestly.
using BehaviourFactory = std::function<std::shared_ptr<const Behaviour>(const QJsonObject &params)>;
// The registered behaviour; throws std::invalid_argument for an unknown name.
std::shared_ptr<const Behaviour> makeBehaviour(const BehaviourRef &ref);

void registerBehaviours(Registry &registry);

} // namespace fedwb
