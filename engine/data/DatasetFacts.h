// What the engine knows about each built-in dataset without loading it (used for validation and estimates).
#pragma once

#include <QString>
#include <QStringList>

namespace fedwb {

struct DatasetFacts {
    int numClasses = 0;
    int channels = 0, height = 0, width = 0; // image datasets
    int features = 0;                        // flattened input size
    bool image = false;
    bool naturalClients = false; // samples carry an owner id (partition "natural")
    bool regression = false;     // a real-valued target (squared loss, no accuracy); numClasses is 1
    QStringList classNames = {}; // what each class is ("T-shirt/top", ...); empty when the classes have none
};

// Facts of a registered dataset (the descriptor in its registry entry); numClasses == 0 for an unknown name.
DatasetFacts datasetFacts(const QString &name);
// Registers every built-in dataset (schema, facts, loader) — defined with the loaders.
void registerDatasets();

} // namespace fedwb
