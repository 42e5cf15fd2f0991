#include "data/dataset_p.h"

#include "spec/Registry.h"
#include "spec/SpecError.h"
#include "util/Rng.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace fedwb {

namespace {

constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;
// Fashion-MNIST's largest file holds 47 MB; an IDX header promising more than this is not one of its files.
constexpr std::uint64_t kMaxIdxBytes = std::uint64_t(256) << 20;

std::uint32_t bigEndian32(const std::uint8_t *p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           std::uint32_t(p[3]);
}

std::shared_ptr<LoadedDataset> loadFashionMnist(const FederationSpec &spec) {
    const QString dir = spec.string(QStringLiteral("dataset.path"));
    const QString key = QStringLiteral("dataset.path");
    const bool standardize = spec.string(QStringLiteral("dataset.normalize")) != QLatin1String("unit");
    if (!QFileInfo(dir).isDir())
        throw SpecError(
            key,
            QStringLiteral("'%1' is not a folder (install the Debian package dataset-fashion-mnist, or point "
                           "dataset.path at a folder with the four IDX .gz files)")
                .arg(dir));
    auto file = [&](const char *base) {
        const QString gz = QDir(dir).filePath(QString::fromLatin1(base) + QStringLiteral(".gz"));
        const QString plain = QDir(dir).filePath(QString::fromLatin1(base));
        return QFileInfo::exists(gz) || !QFileInfo::exists(plain) ? gz : plain;
    };
    const auto shape = [](const IdxArray &a) {
        QStringList dims;
        for (int d : a.dims)
            dims.append(QString::number(d));
        return dims.join(QLatin1Char('x'));
    };
    // `set` is "training" or "test": neither may be empty (a test accuracy over no images is no measurement).
    auto images = [&](const char *base, const QString &set, qint64 limit, torch::Tensor &out, std::int64_t &n,
                      std::int64_t &total) {
        const QString path = file(base);
        IdxArray a = readIdxFile(path, key);
        if (a.dims.size() != 3 || a.dims[1] != 28 || a.dims[2] != 28)
            throw SpecError(key,
                            QStringLiteral("%1: expected N x 28 x 28 images, found an IDX array of shape %2")
                                .arg(path, shape(a)));
        if (a.dims[0] == 0)
            throw SpecError(key,
                            QStringLiteral("%1 holds 0 images: the %2 set must not be empty").arg(path, set));
        n = total = a.dims[0];
        if (limit > 0) n = std::min<std::int64_t>(n, limit);
        auto bytes = torch::from_blob(a.data.data(), {n, 1, 28, 28}, torch::kUInt8);
        out = bytes.to(torch::kFloat32).div_(255.0f);
        if (standardize) out.sub_(kFashionMean).div_(kFashionStd);
        out = out.contiguous();
        return path;
    };
    auto labels = [&](const char *base, const QString &imagesPath, std::int64_t n, std::int64_t total,
                      torch::Tensor &out, std::vector<int> *asInts) {
        const QString path = file(base);
        IdxArray a = readIdxFile(path, key);
        if (a.dims.size() != 1)
            throw SpecError(key,
                            QStringLiteral("%1: expected a list of labels (a 1-dimensional IDX array), found "
                                           "shape %2")
                                .arg(path, shape(a)));
        if (a.dims[0] != total)
            throw SpecError(key,
                            QStringLiteral("%1 holds %2 labels but %3 holds %4 images: they must match one "
                                           "to one")
                                .arg(path)
                                .arg(a.dims[0])
                                .arg(imagesPath)
                                .arg(total));
        std::vector<std::int64_t> y(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) {
            if (a.data[std::size_t(i)] > 9)
                throw SpecError(key, QStringLiteral("%1: label %2 of sample %3 is outside the classes 0..9")
                                         .arg(path)
                                         .arg(a.data[std::size_t(i)])
                                         .arg(i));
            y[std::size_t(i)] = a.data[std::size_t(i)];
        }
        out = torch::tensor(y, torch::kInt64);
        if (asInts) asInts->assign(y.begin(), y.end());
    };
    auto d = std::make_shared<LoadedDataset>();
    d->name = QStringLiteral("fashion-mnist");
    d->facts = *Registry::global().facts<DatasetFacts>(QStringLiteral("dataset"), d->name);
    if (standardize) {
        d->pixelOffset = kFashionMean;
        d->pixelScale = kFashionStd;
    }
    std::int64_t nTrain = 0, nTest = 0, allTrain = 0, allTest = 0;
    const QString trainImages =
        images("train-images-idx3-ubyte", QStringLiteral("training"),
               spec.integer(QStringLiteral("dataset.train_limit")), d->trainX, nTrain, allTrain);
    labels("train-labels-idx1-ubyte", trainImages, nTrain, allTrain, d->trainY, &d->trainLabels);
    const QString testImages =
        images("t10k-images-idx3-ubyte", QStringLiteral("test"),
               spec.integer(QStringLiteral("dataset.test_limit")), d->testX, nTest, allTest);
    labels("t10k-labels-idx1-ubyte", testImages, nTest, allTest, d->testY, nullptr);
    return d;
}

// FedProx Synthetic(alpha, beta) (Li et al. 2020, after Shamir et al. 2014): client k draws u_k ~ N(0,
// alpha), B_k ~ N(0, beta); its model W_k, b_k ~ N(u_k, 1); its feature mean v_k ~ N(B_k, 1); x ~ N(v_k,
// diag(j^-1.2)); y = argmax(W_k x + b_k). Client sizes are lognormal(4, 2) + 50 (capped). The test set holds
// a further 20% of samples per client from the same per-client distributions.
std::shared_ptr<LoadedDataset> makeSynthetic(const FederationSpec &spec) {
    const double alpha = spec.real(QStringLiteral("dataset.alpha"));
    const double beta = spec.real(QStringLiteral("dataset.beta"));
    const std::int64_t cap = spec.integer(QStringLiteral("dataset.max_samples"));
    const int clients = spec.clientCount();
    constexpr int F = 60, K = 10;
    auto d = std::make_shared<LoadedDataset>();
    d->name = QStringLiteral("synthetic");
    d->facts = *Registry::global().facts<DatasetFacts>(QStringLiteral("dataset"), d->name);
    std::vector<float> trainX, testX;
    std::vector<std::int64_t> trainY, testY;
    double sigma[F];
    for (int j = 0; j < F; ++j)
        sigma[j] = std::sqrt(std::pow(double(j + 1), -1.2));
    // A client's size is the first draw of its generator: lognormal(4, 2) + 50, capped.
    auto clientSize = [cap](Rng &rng) {
        return std::min<std::int64_t>(cap, std::int64_t(rng.lognormal(4.0, 2.0)) + 50);
    };
    // Sizes first, so an oversized request fails before memory is spent.
    constexpr std::int64_t kMaxSamples = 2000000;
    std::int64_t total = 0;
    for (int k = 0; k < clients; ++k) {
        Rng rng(spec.dataSeed(), "synthetic-client", k);
        total += clientSize(rng);
    }
    if (total > kMaxSamples)
        throw SpecError(
            QStringLiteral("clients.count"),
            QStringLiteral(
                "synthetic data for %1 clients would hold %2 samples, more than %3; lower clients.count "
                "or dataset.max_samples")
                .arg(clients)
                .arg(total)
                .arg(kMaxSamples));
    for (int k = 0; k < clients; ++k) {
        Rng rng(spec.dataSeed(), "synthetic-client", k);
        const std::int64_t n = clientSize(rng);
        const std::int64_t nTest = std::max<std::int64_t>(10, n / 5);
        const double u = rng.normal(0.0, alpha);
        const double b = rng.normal(0.0, beta);
        double W[K][F], bias[K], v[F];
        for (auto &row : W)
            for (double &w : row)
                w = rng.normal(u, 1.0);
        for (double &c : bias)
            c = rng.normal(u, 1.0);
        for (double &m : v)
            m = rng.normal(b, 1.0);
        auto sample = [&](std::vector<float> &xs, std::vector<std::int64_t> &ys) {
            double x[F];
            for (int j = 0; j < F; ++j)
                x[j] = rng.normal(v[j], sigma[j]);
            int best = 0;
            double bestScore = -1e300;
            for (int c = 0; c < K; ++c) {
                double s = bias[c];
                for (int j = 0; j < F; ++j)
                    s += W[c][j] * x[j];
                if (s > bestScore) bestScore = s, best = c;
            }
            for (double xj : x)
                xs.push_back(float(xj));
            ys.push_back(best);
        };
        for (std::int64_t i = 0; i < n; ++i) {
            sample(trainX, trainY);
            d->naturalIds.push_back(k);
        }
        for (std::int64_t i = 0; i < nTest; ++i)
            sample(testX, testY);
    }
    const auto nTrain = std::int64_t(trainY.size()), nTest = std::int64_t(testY.size());
    d->trainX = torch::from_blob(trainX.data(), {nTrain, F}, torch::kFloat32).clone();
    d->trainY = torch::tensor(trainY, torch::kInt64);
    d->testX = torch::from_blob(testX.data(), {nTest, F}, torch::kFloat32).clone();
    d->testY = torch::tensor(testY, torch::kInt64);
    d->trainLabels.assign(trainY.begin(), trainY.end());
    return d;
}

// Federated least squares (the "quadratic" dataset): client k holds x with per-feature scales s_kj and
// targets y = w_k . x + b_k, w_k = w_0 + heterogeneity * N(0, I). Clients whose scales differ have different
// Hessians, which is what makes FedAvg with many local steps drift from the global optimum.
std::shared_ptr<LoadedDataset> makeQuadratic(const FederationSpec &spec) {
    const int F = int(spec.integer(QStringLiteral("dataset.features")));
    const std::int64_t n = spec.integer(QStringLiteral("dataset.samples_per_client"));
    const double heterogeneity = spec.real(QStringLiteral("dataset.heterogeneity"));
    const double skew = spec.real(QStringLiteral("dataset.hessian_skew"));
    const double noise = spec.real(QStringLiteral("dataset.noise"));
    const int clients = spec.clientCount();
    constexpr std::int64_t kMaxValues = 50'000'000;
    if (std::int64_t(clients) * n * (F + 1) > kMaxValues)
        throw SpecError(QStringLiteral("dataset.samples_per_client"),
                        QStringLiteral("%1 clients x %2 samples x %3 features is more than %4 values; lower "
                                       "dataset.samples_per_client or clients.count")
                            .arg(clients)
                            .arg(n)
                            .arg(F)
                            .arg(kMaxValues));
    auto d = std::make_shared<LoadedDataset>();
    d->name = QStringLiteral("quadratic");
    d->facts = *Registry::global().facts<DatasetFacts>(QStringLiteral("dataset"), d->name);
    d->facts.features = F;
    Rng shared(spec.dataSeed(), "quadratic-w0");
    std::vector<double> w0(static_cast<std::size_t>(F));
    for (double &w : w0)
        w = shared.normal();
    std::vector<float> trainX, testX, trainY, testY;
    for (int k = 0; k < clients; ++k) {
        Rng rng(spec.dataSeed(), "quadratic-client", k);
        std::vector<double> w(static_cast<std::size_t>(F)), scale(static_cast<std::size_t>(F));
        for (int j = 0; j < F; ++j)
            w[std::size_t(j)] = w0[std::size_t(j)] + heterogeneity * rng.normal();
        const double b = heterogeneity * rng.normal();
        for (double &sj : scale)
            sj = std::exp(skew * (2.0 * rng.uniform() - 1.0));
        const auto sample = [&](std::vector<float> &xs, std::vector<float> &ys) {
            double y = b + noise * rng.normal();
            for (int j = 0; j < F; ++j) {
                const double x = scale[std::size_t(j)] * rng.normal();
                xs.push_back(float(x));
                y += w[std::size_t(j)] * x;
            }
            ys.push_back(float(y));
        };
        for (std::int64_t i = 0; i < n; ++i) {
            sample(trainX, trainY);
            d->naturalIds.push_back(k);
        }
        for (std::int64_t i = 0; i < std::max<std::int64_t>(1, n / 5); ++i)
            sample(testX, testY);
    }
    const auto nTrain = std::int64_t(trainY.size()), nTest = std::int64_t(testY.size());
    d->trainX = torch::from_blob(trainX.data(), {nTrain, F}, torch::kFloat32).clone();
    d->trainY = torch::from_blob(trainY.data(), {nTrain}, torch::kFloat32).clone();
    d->testX = torch::from_blob(testX.data(), {nTest, F}, torch::kFloat32).clone();
    d->testY = torch::from_blob(testY.data(), {nTest}, torch::kFloat32).clone();
    d->trainLabels.assign(std::size_t(nTrain), 0); // one "class": partitioners see no label structure
    return d;
}

} // namespace

IdxArray readIdxFile(const QString &file, const QString &keyPath) {
    const QFileInfo info(file);
    if (!info.exists())
        throw SpecError(
            keyPath,
            QStringLiteral("%1 is missing (install the Debian package dataset-fashion-mnist, or point "
                           "dataset.path at a folder with the four IDX .gz files)")
                .arg(file));
    // A folder, FIFO or device under a data file's name: opening a FIFO blocks, a device never ends.
    if (!info.isFile())
        throw SpecError(keyPath,
                        QStringLiteral("%1 is not a regular file (a folder, device or pipe); expected an IDX "
                                       "file, gzip-compressed or plain")
                            .arg(file));
    if (info.size() == 0)
        throw SpecError(
            keyPath, QStringLiteral("%1 is empty (0 bytes); expected an IDX file, gzip-compressed or plain")
                         .arg(file));
    gzFile gz = gzopen(QFile::encodeName(file).constData(), "rb");
    if (!gz)
        throw SpecError(
            keyPath,
            QStringLiteral("%1: cannot open: %2").arg(file, QString::fromLocal8Bit(std::strerror(errno))));
    const std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(gz, gzclose);
    // Reads up to `n` bytes into `dst`; throws on a zlib error (corrupt or truncated compressed data).
    const auto read = [&](std::uint8_t *dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            const unsigned chunk = unsigned(std::min<std::size_t>(n - done, 1u << 20));
            const int got = gzread(gz, dst + done, chunk);
            if (got <= 0) break;
            done += std::size_t(got);
        }
        int errnum = Z_OK;
        const char *msg = gzerror(gz, &errnum);
        const QString zmsg = QString::fromUtf8(msg ? msg : "");
        if (errnum == Z_BUF_ERROR)
            throw SpecError(keyPath, QStringLiteral("%1: truncated gzip data (%2)").arg(file, zmsg));
        if (errnum != Z_OK && errnum != Z_STREAM_END)
            throw SpecError(keyPath, QStringLiteral("%1: corrupt gzip data (%2)").arg(file, zmsg));
        return done;
    };
    std::uint8_t head[4 + 4 * 4];
    const std::size_t magic = read(head, 4);
    if (magic == 0)
        throw SpecError(
            keyPath,
            QStringLiteral("%1 holds no data (an empty gzip stream); expected an IDX file").arg(file));
    if (magic < 4 || head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4)
        throw SpecError(
            keyPath,
            QStringLiteral("%1: not an IDX file of unsigned bytes (bad magic number; expected 00 00 08 "
                           "and 1 to 4 dimensions)")
                .arg(file));
    const int ndim = head[3];
    if (read(head + 4, std::size_t(4 * ndim)) != std::size_t(4 * ndim))
        throw SpecError(keyPath, QStringLiteral("%1: truncated header").arg(file));
    IdxArray a;
    std::uint64_t count = 1;
    for (int i = 0; i < ndim; ++i) {
        const std::uint32_t dim = bigEndian32(&head[std::size_t(4 + 4 * i)]);
        if (dim > kMaxIdxBytes)
            throw SpecError(keyPath, QStringLiteral("%1: dimension %2 of the header is %3, more than this "
                                                    "reader accepts (%4)")
                                         .arg(file)
                                         .arg(i + 1)
                                         .arg(dim)
                                         .arg(kMaxIdxBytes));
        a.dims.push_back(int(dim));
        count *= dim; // at most (kMaxIdxBytes + 1) * kMaxIdxBytes: no overflow
        if (count > kMaxIdxBytes) count = kMaxIdxBytes + 1;
    }
    if (count > kMaxIdxBytes)
        throw SpecError(
            keyPath, QStringLiteral("%1: the header promises more than %2 MiB of data, more than this reader "
                                    "accepts")
                         .arg(file)
                         .arg(kMaxIdxBytes >> 20));
    // One byte more than promised, to tell an oversized file from an exact one; in steps, so a header that
    // lies about a tiny file costs no more memory than the file holds.
    const std::size_t wanted = std::size_t(count) + 1;
    std::size_t got = 0;
    while (got < wanted) {
        const std::size_t step = std::min<std::size_t>(wanted - got, std::size_t(8) << 20);
        a.data.resize(got + step);
        const std::size_t n = read(a.data.data() + got, step);
        got += n;
        if (n < step) break;
    }
    if (got != count)
        throw SpecError(
            keyPath,
            got < count
                ? QStringLiteral("%1: truncated: the header promises %2 bytes of data, the file has %3")
                      .arg(file)
                      .arg(count)
                      .arg(got)
                : QStringLiteral("%1: oversized: the header promises %2 bytes of data, the file has more")
                      .arg(file)
                      .arg(count));
    a.data.resize(std::size_t(count));
    return a;
}

std::shared_ptr<const LoadedDataset> loadDataset(const FederationSpec &spec) {
    const QString name = spec.string(QStringLiteral("dataset.name"));
    const DatasetLoader *loader = Registry::global().factory<DatasetLoader>(QStringLiteral("dataset"), name);
    if (!loader)
        throw SpecError(QStringLiteral("dataset.name"), QStringLiteral("unknown dataset '%1'").arg(name));
    return (*loader)(spec);
}

std::vector<ClientShard> partitionFor(const FederationSpec &spec, const LoadedDataset &data) {
    PartitionInput in;
    in.labels = &data.trainLabels;
    in.numClasses = data.facts.numClasses;
    in.naturalIds = data.naturalIds.empty() ? nullptr : &data.naturalIds;
    in.clientCount = spec.clientCount();
    in.seed = deriveSeed(spec.partitionSeed(), "partition");
    in.minSamples = int(spec.integer(QStringLiteral("partition.min_samples")));
    in.testFraction = spec.real(QStringLiteral("partition.test_fraction"));
    try {
        const auto partitioner = makePartitioner(spec.string(QStringLiteral("partition.name")),
                                                 spec.section(QStringLiteral("partition")));
        return partitionDataset(*partitioner, in);
    } catch (const PartitionError &e) {
        const QString full = QString::fromStdString(e.what());
        throw SpecError(e.path(), full.mid(e.path().size() + 2));
    }
}

namespace {

// Decoding 70,000 images costs ~1 s: keep the last few loads (the GUI and tests run many times).
std::shared_ptr<const LoadedDataset> cachedFashionMnist(const FederationSpec &spec) {
    static std::mutex mutex;
    static std::map<QString, std::shared_ptr<const LoadedDataset>> cache;
    const QString key = spec.string(QStringLiteral("dataset.path")) + QLatin1Char('|') +
                        QString::number(spec.integer(QStringLiteral("dataset.train_limit"))) +
                        QLatin1Char('|') +
                        QString::number(spec.integer(QStringLiteral("dataset.test_limit"))) +
                        QLatin1Char('|') + spec.string(QStringLiteral("dataset.normalize"));
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    auto d = loadFashionMnist(spec);
    if (cache.size() >= 4) cache.clear();
    cache[key] = d;
    return d;
}

// The generated datasets (synthetic, quadratic) depend only on their dataset section (dataset.seed included)
// and clients.count: keep the last two, so that an edit of the partition alone (the designer's preview, a
// sweep over partition values) does not generate them again. Their tensors are read-only once made.
DatasetLoader cachedGenerated(std::shared_ptr<LoadedDataset> (*generate)(const FederationSpec &)) {
    return [generate](const FederationSpec &spec) -> std::shared_ptr<const LoadedDataset> {
        static std::mutex mutex;
        static std::vector<std::pair<QByteArray, std::shared_ptr<const LoadedDataset>>> cache; // newest last
        const QByteArray key =
            QJsonDocument(spec.section(QStringLiteral("dataset"))).toJson(QJsonDocument::Compact) + '|' +
            QByteArray::number(spec.clientCount());
        std::lock_guard lock(mutex);
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->first == key) {
                auto hit = *it;
                cache.erase(it);
                cache.push_back(hit);
                return hit.second;
            }
        std::shared_ptr<const LoadedDataset> d = generate(spec);
        if (cache.size() >= 2) cache.erase(cache.begin());
        cache.emplace_back(key, d);
        return d;
    };
}

} // namespace

void registerDatasets() {
    Registry &r = Registry::global();
    auto add = [&](const QString &name, const QString &title, const QString &help, QList<ParamSchema> params,
                   const QString &explanation, QStringList capabilities, DatasetFacts facts,
                   DatasetLoader loader) {
        auto c = ComponentSchema::make(QStringLiteral("dataset"), name, title, help, std::move(params));
        c.explanation = explanation;
        c.capabilities = std::move(capabilities);
        c.facts = facts;
        c.factory = std::move(loader);
        r.addComponent(std::move(c));
    };
    DatasetFacts fashionFacts{10, 1, 28, 28, 784, true, false, false};
    fashionFacts.classNames = {QStringLiteral("T-shirt/top"), QStringLiteral("Trouser"),
                               QStringLiteral("Pullover"),    QStringLiteral("Dress"),
                               QStringLiteral("Coat"),        QStringLiteral("Sandal"),
                               QStringLiteral("Shirt"),       QStringLiteral("Sneaker"),
                               QStringLiteral("Bag"),         QStringLiteral("Ankle boot")};
    add(QStringLiteral("fashion-mnist"), QStringLiteral("Fashion-MNIST"),
        QStringLiteral(
            "70,000 28x28 grey images of 10 clothing classes (Xiao et al. 2017), read from its IDX gzip "
            "files."),
        {explained(
             stringParam(QStringLiteral("path"), QStringLiteral("/usr/share/datasets/fashion-mnist"),
                         QStringLiteral("Folder with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                                        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.")),
             QStringLiteral("Where the four Fashion-MNIST files are on this computer; the Debian "
                            "package dataset-fashion-mnist installs them at the default folder. A run "
                            "that cannot find them stops before the first round and says what is "
                            "missing.")),
         explained(intParam(QStringLiteral("train_limit"), 0, 0, 60000,
                            QStringLiteral("Use only the first N training images (0 = all 60,000)."),
                            QStringLiteral("samples"), QStringLiteral("all")),
                   QStringLiteral("Fewer training images make every round faster, which is handy for trying "
                                  "out a setup; the accuracy reached is then lower. 0 uses all 60,000. The "
                                  "limited set is still shared out over all clients.")),
         explained(intParam(QStringLiteral("test_limit"), 0, 0, 10000,
                            QStringLiteral("Use only the first N test images (0 = all 10,000)."),
                            QStringLiteral("samples"), QStringLiteral("all")),
                   QStringLiteral("The server measures the global model on these images after evaluated "
                                  "rounds. Fewer make evaluation faster but the accuracy curve noisier; 0 "
                                  "uses all 10,000.")),
         explained(
             choiceParam(QStringLiteral("normalize"), QStringLiteral("standardize"),
                         {QStringLiteral("standardize"), QStringLiteral("unit")},
                         QStringLiteral("standardize: (pixel/255 - 0.2860) / 0.3530; unit: pixel/255 in "
                                        "[0, 1] (what many FL papers use).")),
             QStringLiteral("How pixel brightness is turned into numbers for the model. standardize "
                            "centres them around 0, which usually trains a little faster and is the "
                            "better default; unit keeps them between 0 and 1, to compare with papers "
                            "that do so."))},
        QStringLiteral(
            "Photos of clothes (T-shirts, trousers, shoes ...) in 10 classes: 60,000 for training, split "
            "over the clients, and 10,000 kept by the server to test the global model."),
        {QStringLiteral("image"), QStringLiteral("classification")}, fashionFacts, cachedFashionMnist);
    add(QStringLiteral("synthetic"), QStringLiteral("Synthetic(alpha, beta)"),
        QStringLiteral(
            "The FedProx generator (Li et al. 2020): 60 features, 10 classes, one natural client per "
            "clients.count, per-client model shift (alpha) and feature shift (beta), lognormal sizes."),
        {explained(realParam(QStringLiteral("alpha"), 1.0, 0.0, 100.0,
                             QStringLiteral("How much the clients' local models differ.")),
                   QStringLiteral("Every client labels its points by its own hidden rule. alpha is how far "
                                  "these rules are apart: 0 gives all clients nearly the same rule, 1 (as in "
                                  "the FedProx paper) clearly different ones, so one global model cannot "
                                  "suit everyone.")),
         explained(
             realParam(QStringLiteral("beta"), 1.0, 0.0, 100.0,
                       QStringLiteral("How much the clients' feature distributions differ.")),
             QStringLiteral("How far apart the clients' inputs are: with 0 all clients draw their points "
                            "from the same region, with 1 (as in the FedProx paper) each client sees "
                            "its own region of the input space.")),
         explained(
             intParam(QStringLiteral("max_samples"), 5000, 10, 1000000,
                      QStringLiteral("Cap on one client's generated samples (lognormal sizes have a long "
                                     "tail)."),
                      QStringLiteral("samples")),
             QStringLiteral("Client sizes are drawn at random and a few come out huge; this cap keeps one "
                            "client from holding most of the data and slowing every round. The default "
                            "is rarely worth changing."))},
        QStringLiteral(
            "Generated data where every client has its own rule for labelling points: alpha makes the "
            "rules differ, beta makes the clients' inputs differ. Both 0 is nearly IID; 1 and 1 is "
            "strongly non-IID."),
        {QStringLiteral("natural-clients"), QStringLiteral("classification")},
        DatasetFacts{10, 0, 0, 0, 60, false, true, false}, cachedGenerated(makeSynthetic));
    add(QStringLiteral("quadratic"), QStringLiteral("Federated least squares"),
        QStringLiteral(
            "Linear regression with a known optimum: client k's targets follow its own w_k; per-client "
            "feature scales make the clients' curvatures differ. Squared loss, no accuracy."),
        {explained(intParam(QStringLiteral("features"), 10, 1, 1000, QStringLiteral("Input features."),
                            QStringLiteral("features")),
                   QStringLiteral("How many numbers describe each sample, and so how many weights the linear "
                                  "model has. More features make the problem bigger but not different in "
                                  "kind.")),
         explained(intParam(QStringLiteral("samples_per_client"), 200, 2, 1000000,
                            QStringLiteral("Training samples of each client."), QStringLiteral("samples")),
                   QStringLiteral("Every client gets this many points. With more samples, more local steps "
                                  "happen per epoch, and client drift (each client heading for its own "
                                  "optimum) shows more clearly.")),
         explained(realParam(QStringLiteral("heterogeneity"), 1.0, 0.0, 100.0,
                             QStringLiteral("Spread of the clients' own optima w_k around a shared w_0.")),
                   QStringLiteral("Each client's data has its own best answer. 0 gives every client the same "
                                  "best answer (no drift at all); larger values pull the clients' answers "
                                  "apart, so that many local steps lead each client away from the global "
                                  "optimum.")),
         explained(
             realParam(QStringLiteral("hessian_skew"), 1.0, 0.0, 3.0,
                       QStringLiteral("Per-client feature scales exp(skew * U(-1, 1)): 0 = every client "
                                      "has the same curvature.")),
             QStringLiteral("Scales each client's features differently, so some clients' losses are "
                            "steep and others flat. With different curvatures, plain averaging with "
                            "several local steps settles next to the optimum instead of on it: the "
                            "drift SCAFFOLD and FedNova correct. 0 turns it off.")),
         explained(realParam(QStringLiteral("noise"), 0.0, 0.0, 100.0,
                             QStringLiteral("Standard deviation of target noise.")),
                   QStringLiteral("Random error added to every target value, as measurements have. 0 gives a "
                                  "problem that can be solved exactly; with noise the best loss stays above "
                                  "0."))},
        QStringLiteral(
            "A small regression problem whose best global model can be computed exactly. It shows client "
            "drift: with many local steps, plain FedAvg settles next to the optimum, while SCAFFOLD and "
            "FedNova reach it."),
        {QStringLiteral("natural-clients"), QStringLiteral("regression")},
        DatasetFacts{1, 0, 0, 0, 10, false, true, true}, cachedGenerated(makeQuadratic));
}

} // namespace fedwb
