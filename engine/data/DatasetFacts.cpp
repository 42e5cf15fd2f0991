#include "data/DatasetFacts.h"

#include "spec/Registry.h"

namespace fedwb {

DatasetFacts datasetFacts(const QString &name) {
    DatasetFacts f;
    if (name == QLatin1String("fashion-mnist")) {
        f.numClasses = 10;
        f.channels = 1;
        f.height = f.width = 28;
        f.features = 784;
        f.image = true;
    } else if (name == QLatin1String("synthetic")) {
        f.numClasses = 10;
        f.features = 60;
        f.naturalClients = true;
    }
    return f;
}

void registerDatasetSchemas() {
    Registry &r = Registry::global();
    r.addComponent(
        {QStringLiteral("dataset"),
         QStringLiteral("fashion-mnist"),
         QStringLiteral("Fashion-MNIST"),
         QStringLiteral("70,000 28x28 grey images of 10 clothing classes (Xiao et al. 2017), read from its "
                        "IDX gzip files."),
         {stringParam(QStringLiteral("path"), QStringLiteral("/usr/share/datasets/fashion-mnist"),
                      QStringLiteral("Folder with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                                     "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.")),
          intParam(QStringLiteral("train_limit"), 0, 0, 60000,
                   QStringLiteral("Use only the first N training images (0 = all 60,000)."),
                   QStringLiteral("samples"), QStringLiteral("all")),
          intParam(QStringLiteral("test_limit"), 0, 0, 10000,
                   QStringLiteral("Use only the first N test images (0 = all 10,000)."),
                   QStringLiteral("samples"), QStringLiteral("all"))}});
    r.addComponent(
        {QStringLiteral("dataset"),
         QStringLiteral("synthetic"),
         QStringLiteral("Synthetic(alpha, beta)"),
         QStringLiteral(
             "The FedProx generator (Li et al. 2020): 60 features, 10 classes, one natural client per "
             "clients.count, per-client model shift (alpha) and feature shift (beta), lognormal sizes."),
         {realParam(QStringLiteral("alpha"), 1.0, 0.0, 100.0,
                    QStringLiteral("How much the clients' local models differ.")),
          realParam(QStringLiteral("beta"), 1.0, 0.0, 100.0,
                    QStringLiteral("How much the clients' feature distributions differ.")),
          intParam(
              QStringLiteral("max_samples"), 5000, 10, 1000000,
              QStringLiteral("Cap on one client's generated samples (lognormal sizes have a long tail)."),
              QStringLiteral("samples"))}});
}

} // namespace fedwb
