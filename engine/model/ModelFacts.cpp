#include "model/ModelFacts.h"

#include "spec/Registry.h"

namespace fedwb {

std::int64_t modelParameterCount(const QString &name, const DatasetFacts &data, const QJsonObject &params) {
    const ModelInfo *info = Registry::global().facts<ModelInfo>(QStringLiteral("model"), name);
    return info && info->parameterCount ? info->parameterCount(data, params) : -1;
}

std::int64_t activationBytesPerSample(const QString &name, const DatasetFacts &data,
                                      const QJsonObject &params) {
    const ModelInfo *info = Registry::global().facts<ModelInfo>(QStringLiteral("model"), name);
    return info && info->activationBytesPerSample ? info->activationBytesPerSample(data, params) : 0;
}

} // namespace fedwb
