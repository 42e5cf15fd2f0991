#include "data/DatasetFacts.h"

#include "spec/Registry.h"

namespace fedwb {

DatasetFacts datasetFacts(const QString &name) {
    const DatasetFacts *f = Registry::global().facts<DatasetFacts>(QStringLiteral("dataset"), name);
    return f ? *f : DatasetFacts{};
}

} // namespace fedwb
