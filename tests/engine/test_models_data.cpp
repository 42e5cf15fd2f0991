// Models (parameter counts, flat-parameter views) and datasets (IDX reading, Fashion-MNIST, Synthetic).
#include "data/dataset_p.h"
#include "model/ModelFacts.h"
#include "model/model_p.h"
#include "run/Experiment.h"
#include "spec/Registry.h"
#include "strategy/UpdateStage.h"
#include "train/trainer_p.h"

#include <QTemporaryDir>
#include <QtTest>

#include "../idx_files.h"

#include <zlib.h>

#include <sys/stat.h>

#include <numeric>

using namespace fedwb;
using namespace fedwb::test;

namespace {

FederationSpec specFrom(QJsonObject raw) {
    raw.insert(QStringLiteral("format"), 1);
    auto parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) qFatal("%s", qPrintable(parsed.errorText()));
    return *parsed.spec;
}

// Reading `file` fails with a SpecError naming dataset.path, the file and `needle`.
void expectIdxError(const QString &file, const QString &needle) {
    try {
        readIdxFile(file, QStringLiteral("dataset.path"));
        QFAIL(qPrintable(QStringLiteral("no error for ") + file));
    } catch (const SpecError &e) {
        QCOMPARE(e.path(), QStringLiteral("dataset.path"));
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.contains(needle), qPrintable(msg));
        QVERIFY2(msg.contains(file), qPrintable(msg));
    }
}

const QString kFashion = QStringLiteral("/usr/share/datasets/fashion-mnist");

} // namespace

class TestModelsData : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        registerBuiltins();
        at::set_num_threads(1);
    }

    void parameterCounts_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dataset");
        QTest::addColumn<qint64>("expected");
        // Hand-counted: weights + biases per layer.
        QTest::newRow("logreg fmnist") << "logreg"
                                       << "fashion-mnist" << qint64(784 * 10 + 10); // 7,850
        QTest::newRow("logreg synthetic") << "logreg"
                                          << "synthetic" << qint64(60 * 10 + 10); // 610
        QTest::newRow("2nn fmnist") << "mlp-2nn"
                                    << "fashion-mnist"
                                    << qint64(784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10); // 199,210
        // conv1 6*1*25+6=156, conv2 16*6*25+16=2,416, fc1 400*120+120=48,120, fc2 120*84+84=10,164, fc3 850.
        QTest::newRow("lenet5") << "cnn-lenet5"
                                << "fashion-mnist" << qint64(61706);
        // McMahan et al. 2017 report 1,663,370 for this CNN on 28x28x1 input.
        QTest::newRow("fedavg cnn") << "cnn-fedavg"
                                    << "fashion-mnist" << qint64(1663370);
    }
    void parameterCounts() {
        QFETCH(QString, model);
        QFETCH(QString, dataset);
        QFETCH(qint64, expected);
        FlatModel m(model, datasetFacts(dataset));
        QCOMPARE(qint64(m.parameterCount()), expected);
        QCOMPARE(qint64(modelParameterCount(model, datasetFacts(dataset))), expected);
        std::int64_t sum = 0;
        for (const auto &p : m.net().parameters())
            sum += p.numel();
        QCOMPARE(qint64(sum), expected);
        QCOMPARE(qint64(m.layout().parameterCount()), expected);
    }

    // LeNet-5 without padding: conv1 156, conv2 2,416, fc1 16*4*4*120+120 = 30,840, fc2 10,164, fc3 850
    // = 44,426. Batch-norm models add, per normalized feature, a weight and a bias (trainable) and a running
    // mean and variance (statistics), all in the flat vector.
    void variantCounts_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("padding");
        QTest::addColumn<qint64>("trainable");
        QTest::addColumn<qint64>("flat");
        QTest::newRow("lenet5 pad 0") << "cnn-lenet5" << 0 << qint64(44426) << qint64(44426);
        // Padding 1: 30 -> conv 26 -> pool 13 -> conv 9 -> pool 4 (floor): the same 16x4x4 as padding 0.
        QTest::newRow("lenet5 pad 1") << "cnn-lenet5" << 1 << qint64(44426) << qint64(44426);
        // bn over 6 + 16 + 120 + 84 = 226 features: 452 trainable, 452 statistics.
        QTest::newRow("lenet5-bn") << "cnn-lenet5-bn" << 2 << qint64(61706 + 452) << qint64(61706 + 904);
        QTest::newRow("lenet5-bn pad 0")
            << "cnn-lenet5-bn" << 0 << qint64(44426 + 452) << qint64(44426 + 904);
        // bn over 32 + 64 + 512 = 608 features.
        QTest::newRow("fedavg-bn") << "cnn-fedavg-bn" << 2 << qint64(1663370 + 1216)
                                   << qint64(1663370 + 2432);
    }
    void variantCounts() {
        QFETCH(QString, model);
        QFETCH(int, padding);
        QFETCH(qint64, trainable);
        QFETCH(qint64, flat);
        const QJsonObject params{{QStringLiteral("padding"), padding}};
        const DatasetFacts facts = datasetFacts(QStringLiteral("fashion-mnist"));
        FlatModel m(model, facts, params);
        std::int64_t sum = 0;
        for (const auto &p : m.net().parameters())
            sum += p.numel();
        QCOMPARE(qint64(sum), trainable);
        QCOMPARE(qint64(m.parameterCount()), flat);
        QCOMPARE(qint64(modelParameterCount(model, facts, params)), flat);
        QCOMPARE(m.net().forward(torch::zeros({2, 1, 28, 28})).sizes().vec(),
                 (std::vector<std::int64_t>{2, 10}));
    }

    // Initialization comes from the keyed generator: the same seed gives the same model whatever torch's
    // global generator holds; another seed another model; torch's default distributions
    // (U(+-1/sqrt(fan_in))).
    void keyedInitialization() {
        const DatasetFacts facts = datasetFacts(QStringLiteral("fashion-mnist"));
        torch::manual_seed(1);
        FlatModel a(QStringLiteral("cnn-lenet5-bn"), facts, {}, 42);
        torch::manual_seed(999);
        FlatModel b(QStringLiteral("cnn-lenet5-bn"), facts, {}, 42);
        FlatModel c(QStringLiteral("cnn-lenet5-bn"), facts, {}, 43);
        QVERIFY(torch::equal(a.flat(), b.flat()));
        QVERIFY(!torch::equal(a.flat(), c.flat()));
        const float *w = a.flat().data_ptr<float>();
        int bnWeights = 0, heads = 0;
        std::int64_t covered = 0;
        for (const ModelSegment &s : a.layout().segments) {
            QCOMPARE(s.offset, covered); // segments tile the flat vector
            covered += s.size;
            heads += s.head;
            if (s.name == QLatin1String("conv1.weight") || s.name == QLatin1String("conv1.bias")) {
                const double bound = 1.0 / std::sqrt(1.0 * 5 * 5); // fan_in of conv1: 1 channel x 5 x 5
                double maxAbs = 0;
                for (std::int64_t i = 0; i < s.size; ++i)
                    maxAbs = std::max(maxAbs, std::abs(double(w[s.offset + i])));
                QVERIFY2(maxAbs <= bound && maxAbs > 0.5 * bound, qPrintable(QString::number(maxAbs)));
            }
            if (s.name == QLatin1String("fc1.weight")) { // fan_in 400
                for (std::int64_t i = 0; i < s.size; ++i)
                    QVERIFY(std::abs(w[s.offset + i]) <= 1.0 / 20.0);
            }
            if (s.kind == SegmentKind::BnWeight) {
                ++bnWeights;
                for (std::int64_t i = 0; i < s.size; ++i)
                    QCOMPARE(w[s.offset + i], 1.0f);
            }
            if (s.name.endsWith(QLatin1String("running_var")))
                for (std::int64_t i = 0; i < s.size; ++i)
                    QCOMPARE(w[s.offset + i], 1.0f);
            if (s.name.endsWith(QLatin1String("running_mean")) || s.kind == SegmentKind::BnBias)
                for (std::int64_t i = 0; i < s.size; ++i)
                    QCOMPARE(w[s.offset + i], 0.0f);
        }
        QCOMPARE(covered, a.parameterCount());
        QCOMPARE(bnWeights, 4);
        QCOMPARE(heads, 2); // fc3.weight, fc3.bias
        QVERIFY(a.layout().hasBatchNorm());
    }

    void forwardShapes() {
        FlatModel lenet(QStringLiteral("cnn-lenet5"), datasetFacts(QStringLiteral("fashion-mnist")));
        QCOMPARE(lenet.net().forward(torch::zeros({3, 1, 28, 28})).sizes().vec(),
                 (std::vector<std::int64_t>{3, 10}));
        FlatModel cnn(QStringLiteral("cnn-fedavg"), datasetFacts(QStringLiteral("fashion-mnist")));
        QCOMPARE(cnn.net().forward(torch::zeros({2, 1, 28, 28})).sizes().vec(),
                 (std::vector<std::int64_t>{2, 10}));
        FlatModel mlp(QStringLiteral("mlp-2nn"), datasetFacts(QStringLiteral("synthetic")));
        QCOMPARE(mlp.net().forward(torch::zeros({4, 60})).sizes().vec(), (std::vector<std::int64_t>{4, 10}));
    }

    // The layers must see the flat vector's memory: writing flat changes the module, an optimizer step
    // changes flat.
    void flatParametersAreViews() {
        FlatModel m(QStringLiteral("logreg"), datasetFacts(QStringLiteral("synthetic")));
        m.load(torch::full({m.parameterCount()}, 0.5f));
        for (const auto &p : m.net().parameters())
            QVERIFY(torch::all(p == 0.5f).item<bool>());
        torch::optim::SGD sgd(m.net().parameters(), torch::optim::SGDOptions(1.0));
        auto loss = m.net().forward(torch::ones({1, 60})).sum();
        loss.backward();
        sgd.step();
        // d(sum of logits)/d(weight) = 1 for every weight and bias: each parameter moves from 0.5 to -0.5.
        QVERIFY(torch::allclose(m.flat(), torch::full({m.parameterCount()}, -0.5f)));
    }

    // The client side of the update pipeline: a task's stages run on its update after local training.
    void clientStagesApplyToTheUpdate() {
        const DatasetFacts facts = datasetFacts(QStringLiteral("synthetic"));
        const torch::Tensor x = torch::randn({64, 60}, torch::TensorOptions().dtype(torch::kFloat32));
        const torch::Tensor y = torch::arange(64, torch::kInt64).remainder(10);
        std::vector<std::int64_t> train(64), test;
        std::iota(train.begin(), train.end(), 0);
        const LocalData data{&x, &y, &train, &test};
        ClientTrainer trainer(QStringLiteral("logreg"), facts);
        ClientTask task;
        task.round = 1;
        task.clientId = 0;
        task.model = QByteArray(qsizetype(610 * sizeof(float)), '\0');
        task.training.lr = 0.5;
        task.training.batchSize = 8;
        const ClientResult free = trainer.run(task, data, nullptr);
        QVERIFY(l2Norm(floatsOf(free.update)) > 0.05);
        task.stages = {{QStringLiteral("norm-clip"), QJsonObject{{QStringLiteral("max_norm"), 0.05}}}};
        const ClientResult clipped = trainer.run(task, data, nullptr);
        QVERIFY(std::abs(l2Norm(floatsOf(clipped.update)) - 0.05) < 1e-6);
        // Clipping scales: the clipped update points the same way as the free one.
        const auto a = floatsOf(free.update), b = floatsOf(clipped.update);
        const double scale = 0.05 / l2Norm(a);
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY(std::abs(double(b[i]) - scale * double(a[i])) < 1e-6);
        task.stages = {{QStringLiteral("no-such-stage"), {}}};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, trainer.run(task, data, nullptr));
    }

    // dataset.normalize: "unit" keeps pixel / 255 in [0, 1] (a pixel of 255 is exactly 1); "standardize"
    // maps a 0 pixel to (0 - 0.2860) / 0.3530 = -0.81019...
    void normalization() {
        auto load = [](const char *mode) {
            return loadDataset(specFrom(
                QJsonObject{{QStringLiteral("dataset"),
                             QJsonObject{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                                         {QStringLiteral("train_limit"), 200},
                                         {QStringLiteral("test_limit"), 10},
                                         {QStringLiteral("normalize"), QLatin1String(mode)}}},
                            {QStringLiteral("clients"), QJsonObject{{QStringLiteral("count"), 2}}}}));
        };
        const auto unit = load("unit");
        const auto standard = load("standardize");
        QCOMPARE(unit->trainX.min().item<float>(), 0.0f);
        QCOMPARE(unit->trainX.max().item<float>(), 1.0f);
        QVERIFY(std::abs(standard->trainX.min().item<double>() - (0.0 - 0.2860) / 0.3530) < 1e-6);
        // Same images, the standardized ones are an affine map of the unit ones.
        QVERIFY(torch::allclose(standard->trainX, (unit->trainX - 0.2860f) / 0.3530f, 1e-5, 1e-6));
    }

    // The local optimizer settings reach the optimizer: Nesterov changes the update only with momentum; Adam
    // and weight decay change it too.
    void optimizerSettingsReachTraining() {
        const DatasetFacts facts = datasetFacts(QStringLiteral("synthetic"));
        const torch::Tensor x = torch::linspace(-1, 1, 64 * 60).reshape({64, 60});
        const torch::Tensor y = torch::arange(64, torch::kInt64).remainder(10);
        std::vector<std::int64_t> train(64), test;
        std::iota(train.begin(), train.end(), 0);
        const LocalData data{&x, &y, &train, &test};
        ClientTrainer trainer(QStringLiteral("logreg"), facts);
        auto update = [&](auto configure) {
            ClientTask task;
            task.round = 1;
            task.clientId = 0;
            task.model = tensorBytes(torch::full({610}, 0.01f));
            task.training.batchSize = 8;
            task.training.lr = 0.1;
            configure(task.training);
            return trainer.run(task, data, nullptr).update;
        };
        const QByteArray plain = update([](TrainingConfig &) {});
        const QByteArray nesterovNoMomentum = update([](TrainingConfig &t) { t.nesterov = true; });
        const QByteArray momentum = update([](TrainingConfig &t) { t.momentum = 0.9; });
        const QByteArray nesterov = update([](TrainingConfig &t) {
            t.momentum = 0.9;
            t.nesterov = true;
        });
        const QByteArray adam = update([](TrainingConfig &t) { t.optimizer = QStringLiteral("adam"); });
        const QByteArray decayed = update([](TrainingConfig &t) { t.weightDecay = 0.1; });
        QCOMPARE(nesterovNoMomentum, plain); // Nesterov without momentum is plain SGD
        QVERIFY(momentum != plain);
        QVERIFY(nesterov != momentum);
        QVERIFY(adam != plain);
        QVERIFY(decayed != plain);
    }

    // Batch norm cannot train on a batch of one: such a batch is skipped, so a client with one training
    // sample takes no step (and a bounded fine-tune returns instead of looping for ever), SCAFFOLD sends a
    // zero change.
    void batchNormClientWithOneSample() {
        const DatasetFacts facts = datasetFacts(QStringLiteral("fashion-mnist"));
        const torch::Tensor x = torch::zeros({1, 1, 28, 28});
        const torch::Tensor y = torch::zeros({1}, torch::kInt64);
        std::vector<std::int64_t> train{0}, test;
        const LocalData data{&x, &y, &train, &test};
        ClientTrainer trainer(QStringLiteral("cnn-lenet5-bn"), facts);
        ClientTask task;
        task.round = 1;
        task.clientId = 0;
        task.model = tensorBytes(trainer.model().flat());
        task.algorithm = QStringLiteral("scaffold");
        const ClientResult r = trainer.run(task, data, nullptr);
        QCOMPARE(clientStatusName(r.status), QStringLiteral("ok"));
        QCOMPARE(r.steps, std::int64_t(0));
        QCOMPARE(r.payloadUp.size(), task.model.size()); // a zero change of c_i, not a missing one
        QCOMPARE(l2Norm(floatsOf(r.payloadUp)), 0.0);
        const TrainStats fineTune = trainer.trainLoaded(task.training, data, Rng(1), 5, {}, nullptr);
        QCOMPARE(fineTune.steps, std::int64_t(0));
    }

    void unknownModelIsSpecError() {
        try {
            makeNet(QStringLiteral("resnet"), datasetFacts(QStringLiteral("fashion-mnist")));
            QFAIL("no error");
        } catch (const SpecError &e) {
            QCOMPARE(e.path(), QStringLiteral("model.name"));
        }
    }

    void idxReading() {
        QTemporaryDir dir;
        const QString ok = dir.filePath(QStringLiteral("ok.gz"));
        writeGz(ok, idxImages(3));
        const IdxArray a = readIdxFile(ok, QStringLiteral("dataset.path"));
        QCOMPARE(a.dims, (std::vector<int>{3, 28, 28}));
        QCOMPARE(int(a.data.size()), 3 * 784);
        QCOMPARE(int(a.data[300]), 300 % 251);

        expectIdxError(dir.filePath(QStringLiteral("missing.gz")), QStringLiteral("missing"));
        const QString badMagic = dir.filePath(QStringLiteral("magic.gz"));
        writeGz(badMagic, QByteArray::fromHex("12345678") + be32(1));
        expectIdxError(badMagic, QStringLiteral("magic"));
        const QString truncated = dir.filePath(QStringLiteral("trunc.gz"));
        writeGz(truncated, idxImages(3).left(4 + 12 + 784 * 2));
        expectIdxError(truncated, QStringLiteral("truncated"));
        const QString corrupt = dir.filePath(QStringLiteral("corrupt.gz"));
        {
            QFile f(ok);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QByteArray bytes = f.readAll();
            for (int i = 20; i < bytes.size() - 8; ++i)
                bytes[i] = char(bytes[i] ^ 0x5a); // damage the deflate stream
            QFile g(corrupt);
            QVERIFY(g.open(QIODevice::WriteOnly));
            g.write(bytes);
        }
        expectIdxError(corrupt, QStringLiteral("corrupt"));
    }

    // Every way an IDX file can be wrong gives a SpecError naming dataset.path, the file and the problem.
    void idxReadingRefusesBadFiles() {
        QTemporaryDir dir;
        const auto writePlain = [](const QString &path, const QByteArray &bytes) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        };
        const QString empty = dir.filePath(QStringLiteral("empty.gz"));
        writePlain(empty, {});
        expectIdxError(empty, QStringLiteral("empty"));
        const QString emptyGz = dir.filePath(QStringLiteral("empty-stream.gz"));
        writeGz(emptyGz, {});
        expectIdxError(emptyGz, QStringLiteral("no data"));
        // A gzip file cut in half: zlib's "unexpected end of file".
        const QString ok = dir.filePath(QStringLiteral("ok.gz"));
        writeGz(ok, idxImages(5));
        QFile okFile(ok);
        QVERIFY(okFile.open(QIODevice::ReadOnly));
        const QByteArray okBytes = okFile.readAll();
        const QString cut = dir.filePath(QStringLiteral("cut.gz"));
        writePlain(cut, okBytes.left(okBytes.size() / 2));
        expectIdxError(cut, QStringLiteral("truncated gzip"));
        // Garbage that is not gzip is read as a plain file: its magic number is wrong.
        const QString garbage = dir.filePath(QStringLiteral("garbage.gz"));
        writePlain(garbage, QByteArray("this is not an IDX file at all\n"));
        expectIdxError(garbage, QStringLiteral("bad magic"));
        // An IDX file of floats (type 0x0d) is not one of unsigned bytes.
        const QString floats = dir.filePath(QStringLiteral("floats.gz"));
        writeGz(floats, QByteArray::fromHex("00000d01") + be32(1) + QByteArray(4, 0));
        expectIdxError(floats, QStringLiteral("bad magic"));
        const QString oversized = dir.filePath(QStringLiteral("over.gz"));
        writeGz(oversized, idxImages(2) + QByteArray(3, 'x'));
        expectIdxError(oversized, QStringLiteral("oversized"));
        // A header promising 4 GB of data is refused before anything is allocated.
        const QString huge = dir.filePath(QStringLiteral("huge.gz"));
        writeGz(huge, QByteArray::fromHex("00000803") + be32(60000000) + be32(28) + be32(28));
        expectIdxError(huge, QStringLiteral("more than"));
        const QString header = dir.filePath(QStringLiteral("header.gz"));
        writeGz(header, QByteArray::fromHex("00000803") + be32(1));
        expectIdxError(header, QStringLiteral("truncated header"));
        // A folder or a FIFO under a data file's name: refused without opening (a FIFO would block).
        const QString folder = dir.filePath(QStringLiteral("folder.gz"));
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.gz")));
        expectIdxError(folder, QStringLiteral("not a regular file"));
        const QString fifo = dir.filePath(QStringLiteral("fifo.gz"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        expectIdxError(fifo, QStringLiteral("not a regular file"));
        expectIdxError(QStringLiteral("/dev/zero"), QStringLiteral("not a regular file"));
    }

    // Whole folders: an empty training or test set, labels that do not match the images, a label out of
    // range; each names the file. An empty test set used to pass and report a test accuracy of 0.
    void fashionMnistRefusesBadFolders_data() {
        QTest::addColumn<int>("trainImages");
        QTest::addColumn<int>("trainLabels");
        QTest::addColumn<int>("testImages");
        QTest::addColumn<int>("testLabels");
        QTest::addColumn<int>("badLabel"); // a label value written at sample 3 of the training labels, or -1
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("needle");
        QTest::newRow("empty test set") << 20 << 20 << 0 << 0 << -1 << "t10k-images-idx3-ubyte.gz"
                                        << "0 images: the test set must not be empty";
        QTest::newRow("empty training set") << 0 << 0 << 10 << 10 << -1 << "train-images-idx3-ubyte.gz"
                                            << "0 images: the training set must not be empty";
        QTest::newRow("fewer labels") << 20 << 19 << 10 << 10 << -1 << "train-labels-idx1-ubyte.gz"
                                      << "holds 19 labels but";
        QTest::newRow("more test labels") << 20 << 20 << 10 << 11 << -1 << "t10k-labels-idx1-ubyte.gz"
                                          << "must match one to one";
        QTest::newRow("label 10") << 20 << 20 << 10 << 10 << 10 << "train-labels-idx1-ubyte.gz"
                                  << "label 10 of sample 3 is outside the classes 0..9";
        QTest::newRow("label 255") << 20 << 20 << 10 << 10 << 255 << "train-labels-idx1-ubyte.gz"
                                   << "label 255 of sample 3";
    }
    void fashionMnistRefusesBadFolders() {
        QFETCH(int, trainImages);
        QFETCH(int, trainLabels);
        QFETCH(int, testImages);
        QFETCH(int, testLabels);
        QFETCH(int, badLabel);
        QFETCH(QString, file);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        QByteArray labels = idxLabels(trainLabels);
        if (badLabel >= 0) labels[8 + 3] = char(badLabel);
        writeGz(dir.filePath(QStringLiteral("train-images-idx3-ubyte.gz")), idxImages(trainImages));
        writeGz(dir.filePath(QStringLiteral("train-labels-idx1-ubyte.gz")), labels);
        writeGz(dir.filePath(QStringLiteral("t10k-images-idx3-ubyte.gz")), idxImages(testImages));
        writeGz(dir.filePath(QStringLiteral("t10k-labels-idx1-ubyte.gz")), idxLabels(testLabels));
        const auto spec = specFrom(QJsonObject{
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("path"), dir.path()}}},
            {QStringLiteral("clients"), QJsonObject{{QStringLiteral("count"), 2}}},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")}}}});
        // Through what `fedwb-cli validate` runs, so validate catches it before a run would.
        try {
            summarizePartition(spec);
            QFAIL("no error");
        } catch (const SpecError &e) {
            QCOMPARE(e.path(), QStringLiteral("dataset.path"));
            const QString msg = QString::fromStdString(e.what());
            QVERIFY2(msg.contains(dir.filePath(file)), qPrintable(msg));
            QVERIFY2(msg.contains(needle), qPrintable(msg));
        }
    }

    void fashionMnistFromFolder() {
        QTemporaryDir dir;
        writeGz(dir.filePath(QStringLiteral("train-images-idx3-ubyte.gz")), idxImages(50));
        writeGz(dir.filePath(QStringLiteral("train-labels-idx1-ubyte.gz")), idxLabels(50));
        writeGz(dir.filePath(QStringLiteral("t10k-images-idx3-ubyte.gz")), idxImages(20));
        writeGz(dir.filePath(QStringLiteral("t10k-labels-idx1-ubyte.gz")), idxLabels(20));
        auto spec = specFrom(QJsonObject{
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                                                    {QStringLiteral("path"), dir.path()}}}});
        auto d = loadDataset(spec);
        QCOMPARE(d->trainX.sizes().vec(), (std::vector<std::int64_t>{50, 1, 28, 28}));
        QCOMPARE(d->testY.size(0), 20);
        QCOMPARE(d->trainLabels[13], 3);
        // Pixel 0 of image 0 is byte 0: (0/255 - 0.2860)/0.3530.
        QVERIFY(std::abs(d->trainX[0][0][0][0].item<float>() - (-0.2860f / 0.3530f)) < 1e-5f);

        // A missing file in the folder names dataset.path and the file.
        QFile::remove(dir.filePath(QStringLiteral("t10k-labels-idx1-ubyte.gz")));
        auto spec2 = specFrom(
            QJsonObject{{QStringLiteral("dataset"), QJsonObject{{QStringLiteral("path"), dir.path()},
                                                                {QStringLiteral("test_limit"), 19}}}});
        try {
            loadDataset(spec2);
            QFAIL("no error");
        } catch (const SpecError &e) {
            QCOMPARE(e.path(), QStringLiteral("dataset.path"));
            QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("t10k-labels-idx1-ubyte")));
        }
        auto spec3 =
            specFrom(QJsonObject{{QStringLiteral("dataset"),
                                  QJsonObject{{QStringLiteral("path"), QStringLiteral("/no/such/folder")}}}});
        QVERIFY_THROWS_EXCEPTION(SpecError, loadDataset(spec3));
    }

    void realFashionMnist() {
        if (!QFileInfo::exists(kFashion + QStringLiteral("/train-images-idx3-ubyte.gz")))
            QFAIL("Fashion-MNIST is not installed: run installer/install-deps.sh (package "
                  "dataset-fashion-mnist)");
        auto d = loadDataset(specFrom({}));
        QCOMPARE(d->trainX.size(0), 60000);
        QCOMPARE(d->testX.size(0), 10000);
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        const auto counts = torch::bincount(d->trainY);
        QVERIFY(torch::all(counts == 6000).item<bool>());
        QVERIFY(torch::all(torch::bincount(d->testY) == 1000).item<bool>());
        // Normalised with the dataset's published mean/std: the result has mean ~0 and std ~1.
        QVERIFY(std::abs(d->trainX.mean().item<double>()) < 0.01);
        QVERIFY(std::abs(d->trainX.std().item<double>() - 1.0) < 0.01);
    }

    void syntheticIsDeterministicAndShaped() {
        const QJsonObject raw{
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                    {QStringLiteral("alpha"), 0.5},
                                                    {QStringLiteral("beta"), 0.5}}},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
            {QStringLiteral("clients"),
             QJsonObject{{QStringLiteral("count"), 30}, {QStringLiteral("per_round"), 10}}},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}}};
        auto a = loadDataset(specFrom(raw));
        // The last two generated datasets are kept: a change of the partition alone reuses the data, a
        // change of the dataset section does not.
        QJsonObject partitionOnly = raw;
        partitionOnly.insert(QStringLiteral("partition"),
                             QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")},
                                         {QStringLiteral("test_fraction"), 0.3}});
        QCOMPARE(loadDataset(specFrom(partitionOnly)).get(), a.get());
        // Two other datasets push `a` out: b is generated again, and must be the same data.
        for (double beta : {0.25, 0.75}) {
            QJsonObject evict = raw;
            QJsonObject dataset = raw.value(QStringLiteral("dataset")).toObject();
            dataset.insert(QStringLiteral("beta"), beta);
            evict.insert(QStringLiteral("dataset"), dataset);
            QVERIFY(loadDataset(specFrom(evict)).get() != a.get());
        }
        auto b = loadDataset(specFrom(raw));
        QVERIFY(b.get() != a.get());
        QCOMPARE(a->trainX.size(1), 60);
        QVERIFY(torch::equal(a->trainX, b->trainX));
        QVERIFY(torch::equal(a->trainY, b->trainY));
        QCOMPARE(int(a->naturalIds.size()), int(a->trainX.size(0)));
        // Every client has lognormal(4, 2) + 50 samples: at least 50, at most max_samples (5000).
        std::vector<int> sizes(30, 0);
        for (int id : a->naturalIds)
            sizes[std::size_t(id)] += 1;
        for (int s : sizes)
            QVERIFY(s >= 50 && s <= 5000);
        // Lognormal sizes are skewed: the largest client is much larger than the smallest.
        QVERIFY(*std::max_element(sizes.begin(), sizes.end()) >
                3 * *std::min_element(sizes.begin(), sizes.end()));
        // A different seed gives different data.
        QJsonObject other = raw;
        other.insert(QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), 2}});
        QVERIFY(
            !torch::equal(loadDataset(specFrom(other))->trainY.narrow(0, 0, 50), a->trainY.narrow(0, 0, 50)));
        // Labels are argmax of a linear model: all 10 classes occur over 30 clients.
        QCOMPARE(std::get<0>(torch::unique_consecutive(std::get<0>(torch::sort(a->trainY)))).numel(), 10);
        // Within a client, feature j has variance (j+1)^-1.2 (Sigma is a covariance, not a std): check it on
        // the largest client; with n >= 500 samples the sample variance is within ~3 standard errors
        // (sqrt(2/n) ~ 6%).
        const int largest = int(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
        QVERIFY(sizes[std::size_t(largest)] >= 500);
        const auto owned = torch::nonzero(torch::tensor(a->naturalIds) == largest).flatten();
        const auto variance = a->trainX.index_select(0, owned).var(0);
        for (int j : {0, 9, 59}) {
            const double expected = std::pow(double(j + 1), -1.2); // 1, 0.0631, 0.00740
            QVERIFY2(std::abs(variance[j].item<double>() / expected - 1.0) < 0.2,
                     qPrintable(QStringLiteral("feature %1: %2 vs %3")
                                    .arg(j)
                                    .arg(variance[j].item<double>())
                                    .arg(expected)));
        }
        // The natural partition gives each client exactly its own samples.
        const auto shards = partitionFor(specFrom(raw), *a);
        for (int c = 0; c < 30; ++c)
            QCOMPARE(int(shards[std::size_t(c)].train.size() + shards[std::size_t(c)].test.size()),
                     sizes[std::size_t(c)]);
    }
};

QTEST_GUILESS_MAIN(TestModelsData)
#include "test_models_data.moc"
