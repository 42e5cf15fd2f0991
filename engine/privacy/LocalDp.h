// Local differential privacy: every client clips its own update to L2 norm S and adds Gaussian noise
// N(0, (z S)^2 I) before it leaves the device, so the server (and anyone who sees an update) learns little
// about that client's data. Groups may use their own S and z (clients.groups[i].privacy), and epsilon is
// reported per group.
//
// Accounting: any two local datasets give clipped updates at most 2S apart, so one release is the Gaussian
// mechanism with sensitivity 2S and noise zS: RDP 2 alpha / z^2 at order alpha (Mironov 2017). A client's
// releases compose: after k of them 2 k alpha / z^2, converted to (epsilon, delta) with the same optimal-
// order conversion as the central accountant (privacy/Accountant.h). Sampling gives no amplification here
// (the client knows when it takes part). A group's epsilon is that of its client with the most releases; a
// client that dropped out released nothing. Torch-free.
#pragma once

#include "privacy/PrivacyLedger.h"
#include "strategy/UpdateStage.h"

#include <QList>
#include <QString>

#include <cstdint>

namespace fedwb {

class Registry;

namespace privacy {

// Epsilon at `delta` of `releases` local Gaussian releases with noise multiplier z (0 for no release).
double localEpsilon(double z, std::int64_t releases, double delta);

// The client-side stage "local-dp" {clip_norm, noise_multiplier}: exact L2 clipping (in double) then noise
// from the generator keyed (stage key, "local-dp") for this update.
class LocalGaussianStage : public UpdateStage {
public:
    LocalGaussianStage(double clipNorm, double noiseMultiplier); // throws std::invalid_argument
    QString name() const override { return QStringLiteral("local-dp"); }
    void apply(std::span<float> update, const StageContext &context) override;

private:
    double m_clip, m_z;
};

// One group's local mechanism: its clip norm and noise multiplier after its overrides.
struct LocalGroupPrivacy {
    QString group;
    double clipNorm = 1;
    double noiseMultiplier = 1;
    StageRef stage() const; // the "local-dp" stage its clients apply
};
QList<LocalGroupPrivacy> localPrivacyOf(const FederationSpec &spec);

void registerLocalDp(Registry &registry);

} // namespace privacy
} // namespace fedwb
