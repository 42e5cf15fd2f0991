// Partitioners and the deterministic RNG, on hand-made label vectors (no dataset, no torch).
#include "data/Partitioner.h"
#include "spec/Registry.h"
#include "util/Rng.h"

#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

using namespace fedwb;

namespace {

constexpr int kClasses = 10;
constexpr int kPerClass = 600;

// Label-sorted: 600 zeros, then 600 ones, ...
std::vector<int> orderedLabels(int classes = kClasses, int perClass = kPerClass) {
    std::vector<int> labels;
    for (int c = 0; c < classes; ++c)
        labels.insert(labels.end(), std::size_t(perClass), c);
    return labels;
}

// The same multiset of labels in a fixed pseudo-random order (own LCG + Fisher-Yates: independent of the
// engine's Rng and of the standard library).
std::vector<int> shuffledLabels(int classes = kClasses, int perClass = kPerClass,
                                std::uint64_t seed = 12345) {
    std::vector<int> labels = orderedLabels(classes, perClass);
    std::uint64_t x = seed;
    for (std::size_t i = labels.size(); i > 1; --i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        std::swap(labels[i - 1], labels[std::size_t((x >> 33) % i)]);
    }
    return labels;
}

PartitionInput makeInput(const std::vector<int> &labels, int clients, std::uint64_t seed, int minSamples = 10,
                         double testFraction = 0.1, const std::vector<int> *naturalIds = nullptr) {
    return PartitionInput{&labels, kClasses, naturalIds, clients, seed, minSamples, testFraction};
}

std::vector<std::int64_t> allOf(const ClientShard &s) {
    std::vector<std::int64_t> v = s.train;
    v.insert(v.end(), s.test.begin(), s.test.end());
    std::sort(v.begin(), v.end());
    return v;
}

int distinctLabels(const std::vector<int> &labels, const std::vector<std::int64_t> &idx) {
    std::set<int> seen;
    for (std::int64_t i : idx)
        seen.insert(labels[std::size_t(i)]);
    return int(seen.size());
}

// Total-variation distance between a client's label distribution and the uniform one over kClasses:
// 0.5 * sum_k |p_k - 1/K|. 0 for a perfectly balanced client, 1 - 1/K = 0.9 for a single-class client.
double tvFromUniform(const std::vector<int> &labels, const std::vector<std::int64_t> &idx) {
    const auto h = labelHistogram(labels, kClasses, idx);
    double tv = 0;
    for (std::int64_t count : h)
        tv += std::abs(double(count) / double(idx.size()) - 1.0 / kClasses);
    return 0.5 * tv;
}

// Every index of [0, n) appears in exactly one client's train or test split.
QString coverageProblem(const std::vector<ClientShard> &shards, std::size_t n) {
    std::vector<int> seen(n, 0);
    for (std::size_t c = 0; c < shards.size(); ++c) {
        for (const auto *part : {&shards[c].train, &shards[c].test}) {
            for (std::int64_t i : *part) {
                if (i < 0 || std::size_t(i) >= n)
                    return QStringLiteral("client %1 holds index %2 outside [0, %3)").arg(c).arg(i).arg(n);
                if (++seen[std::size_t(i)] > 1)
                    return QStringLiteral("index %1 is held twice (again by client %2)").arg(i).arg(c);
            }
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        if (seen[i] == 0) return QStringLiteral("index %1 is held by no client").arg(i);
    return {};
}

// The expected local-test size: round(f * n), at least 1 (and at most n - 1) when f > 0 and n >= 2.
std::int64_t expectedTestSize(double f, std::int64_t n) {
    if (f <= 0) return 0;
    std::int64_t t = std::llround(f * double(n));
    if (n >= 2) t = std::clamp<std::int64_t>(t, 1, n - 1);
    return t;
}

bool sameShards(const std::vector<ClientShard> &a, const std::vector<ClientShard> &b) {
    if (a.size() != b.size()) return false;
    for (std::size_t c = 0; c < a.size(); ++c)
        if (a[c].train != b[c].train || a[c].test != b[c].test) return false;
    return true;
}

QJsonObject params(const QString &key, double value) {
    return QJsonObject{{key, value}};
}

// The PartitionError that `f` throws; empty when it throws none.
template <typename F> std::optional<PartitionError> partitionError(F f) {
    try {
        f();
    } catch (const PartitionError &e) {
        return e;
    }
    return std::nullopt;
}

// The PartitionError of partitioning `in` with the named partitioner; empty when that succeeds.
std::optional<PartitionError> partitionError(const QString &name, const QJsonObject &params,
                                             const PartitionInput &in) {
    return partitionError([&] { partitionDataset(*makePartitioner(name, params), in); });
}

// Natural owners (used by "natural" only): a fixed, slightly irregular assignment of samples to clients.
std::vector<int> naturalOwners(std::size_t n, int clients) {
    std::vector<int> ids(n);
    for (std::size_t i = 0; i < n; ++i)
        ids[i] = int((i * 7 + i / 13) % std::size_t(clients));
    return ids;
}

// One row of invariants_data, with the labels (and, for "natural", the owner ids) it partitions.
struct InvariantsRow {
    QString name;
    QJsonObject params;
    int clients = 0;
    int minSamples = 0;
    double testFraction = 0;
    std::vector<int> labels;
    std::vector<int> ids;

    PartitionInput input(std::uint64_t seed) const {
        const std::vector<int> *natural = name == QLatin1String("natural") ? &ids : nullptr;
        return makeInput(labels, clients, seed, minSamples, testFraction, natural);
    }
};

// Reads the current row of invariants_data (for a test function that uses that table).
InvariantsRow fetchInvariantsRow() {
    QFETCH(QString, name);
    QFETCH(QJsonObject, params);
    QFETCH(int, clients);
    QFETCH(bool, sorted);
    QFETCH(int, minSamples);
    QFETCH(double, testFraction);
    InvariantsRow row{name, params, clients, minSamples, testFraction, {}, {}};
    row.labels = sorted ? orderedLabels() : shuffledLabels();
    row.ids = naturalOwners(row.labels.size(), clients);
    return row;
}

} // namespace

class TestPartition : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerBuiltins(); } // the partitioners' factories live in the registry

    // --- invariants every partitioner keeps ---------------------------------------------------------
    void invariants_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QJsonObject>("params");
        QTest::addColumn<int>("clients");
        QTest::addColumn<bool>("sorted");
        QTest::addColumn<int>("minSamples");
        QTest::addColumn<double>("testFraction");

        const QJsonObject none;
        QTest::newRow("iid") << QStringLiteral("iid") << none << 7 << false << 10 << 0.1;
        QTest::newRow("iid-sorted-f0") << QStringLiteral("iid") << none << 10 << true << 10 << 0.0;
        QTest::newRow("dirichlet-0.5") << QStringLiteral("dirichlet") << params(QStringLiteral("alpha"), 0.5)
                                       << 20 << false << 20 << 0.1;
        QTest::newRow("dirichlet-0.1-f0.25")
            << QStringLiteral("dirichlet") << params(QStringLiteral("alpha"), 0.1) << 10 << true << 10
            << 0.25;
        QTest::newRow("classes-2") << QStringLiteral("classes-per-client")
                                   << params(QStringLiteral("classes_per_client"), 2) << 10 << false << 10
                                   << 0.1;
        QTest::newRow("classes-3-of-13")
            << QStringLiteral("classes-per-client") << params(QStringLiteral("classes_per_client"), 3) << 13
            << true << 10 << 0.2;
        QTest::newRow("shards-2") << QStringLiteral("shards")
                                  << params(QStringLiteral("shards_per_client"), 2) << 20 << true << 10
                                  << 0.1;
        QTest::newRow("shards-3-uneven")
            << QStringLiteral("shards") << params(QStringLiteral("shards_per_client"), 3) << 7 << false << 10
            << 0.15;
        QTest::newRow("quantity-skew") << QStringLiteral("quantity-skew")
                                       << params(QStringLiteral("alpha"), 1.0) << 12 << false << 25 << 0.1;
        QTest::newRow("quantity-skew-0.1") << QStringLiteral("quantity-skew")
                                           << params(QStringLiteral("alpha"), 0.1) << 20 << true << 5 << 0.3;
        QTest::newRow("natural") << QStringLiteral("natural") << none << 9 << false << 10 << 0.1;
    }

    void invariants() {
        const InvariantsRow row = fetchInvariantsRow();
        const std::vector<int> &labels = row.labels;
        const int clients = row.clients;
        const int minSamples = row.minSamples;
        const double testFraction = row.testFraction;

        const auto partitioner = makePartitioner(row.name, row.params);
        QVERIFY(partitioner);
        const PartitionInput in = row.input(42);
        const std::vector<ClientShard> shards = partitionDataset(*partitioner, in);

        QCOMPARE(int(shards.size()), clients);
        const QString problem = coverageProblem(shards, labels.size());
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        std::size_t total = 0;
        const auto assignment =
            partitioner->assign(in); // the same draw partitionDataset made (deterministic)
        QCOMPARE(int(assignment.size()), clients);
        for (int c = 0; c < clients; ++c) {
            const ClientShard &s = shards[std::size_t(c)];
            const std::int64_t n = std::int64_t(s.train.size() + s.test.size());
            total += std::size_t(n);
            QVERIFY2(
                n >= minSamples,
                qPrintable(QStringLiteral("client %1 has %2 < %3 samples").arg(c).arg(n).arg(minSamples)));
            QCOMPARE(std::int64_t(s.test.size()), expectedTestSize(testFraction, n));
            // The local test split is cut from this client's own samples (so it has the client's
            // distribution).
            std::vector<std::int64_t> assigned = assignment[std::size_t(c)];
            std::sort(assigned.begin(), assigned.end());
            QVERIFY2(allOf(s) == assigned,
                     qPrintable(
                         QStringLiteral("client %1: train + test differ from its assigned samples").arg(c)));
            QVERIFY(std::is_sorted(s.train.begin(), s.train.end()));
            QVERIFY(std::is_sorted(s.test.begin(), s.test.end()));
        }
        QCOMPARE(total, labels.size());
    }

    void deterministic_data() { invariants_data(); }
    void deterministic() {
        const InvariantsRow row = fetchInvariantsRow();
        const auto p1 = makePartitioner(row.name, row.params);
        const auto p2 =
            makePartitioner(row.name, row.params); // a fresh object: no state carried between calls
        const auto a = partitionDataset(*p1, row.input(7));
        const auto b = partitionDataset(*p2, row.input(7));
        const auto again = partitionDataset(*p1, row.input(7));
        QVERIFY(sameShards(a, b));
        QVERIFY(sameShards(a, again));
        const auto other = partitionDataset(*p1, row.input(8));
        QVERIFY2(!sameShards(a, other), "a different seed gave the identical partition");
        if (row.name == QLatin1String("natural")) {
            // The natural owners do not depend on the seed; only the local test split does.
            for (std::size_t c = 0; c < a.size(); ++c)
                QVERIFY(allOf(a[c]) == allOf(other[c]));
        }
    }

    // --- partitioner-specific behaviour ---------------------------------------------------------------
    void iidSizesDifferByAtMostOne() {
        const std::vector<int> labels = shuffledLabels();
        for (int clients : {1, 7, 10, 13, 600}) {
            const auto shards = partitionDataset(*makePartitioner(QStringLiteral("iid"), {}),
                                                 makeInput(labels, clients, 3, 2, 0.1));
            std::size_t lo = SIZE_MAX, hi = 0;
            for (const auto &s : shards) {
                lo = std::min(lo, s.train.size() + s.test.size());
                hi = std::max(hi, s.train.size() + s.test.size());
            }
            QVERIFY2(hi - lo <= 1,
                     qPrintable(QStringLiteral("%1 clients: sizes %2..%3").arg(clients).arg(lo).arg(hi)));
            // 6000 / 7 = 857.14: sizes 857 and 858.
            if (clients == 7) {
                QCOMPARE(lo, std::size_t(857));
                QCOMPARE(hi, std::size_t(858));
            }
        }
    }

    // --- the exact partitions runs use ---------------------------------------------------------------
    // A digest (FNV-1a over every client's sorted train and test indices) of partitions of a 60,000-sample
    // pool, recorded from the partitioner code before its speed-ups: any change to what a partitioner
    // returns (not only to its invariants) fails here. The 1000-client Dirichlet rows exhaust the 100
    // redraws and take the top-up path.
    void partitionsMatchTheirRecordedDigests_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QJsonObject>("params");
        QTest::addColumn<int>("clients");
        QTest::addColumn<int>("minSamples");
        QTest::addColumn<quint64>("digest");
        const QString dirichlet = QStringLiteral("dirichlet"), alpha = QStringLiteral("alpha");
        QTest::newRow("dirichlet 0.5, 20")
            << dirichlet << params(alpha, 0.5) << 20 << 50 << quint64(0x4bde4da8d9f25b4eull);
        QTest::newRow("dirichlet 0.1, 200")
            << dirichlet << params(alpha, 0.1) << 200 << 10 << quint64(0xbb0430bb2208bd97ull);
        QTest::newRow("dirichlet 0.5, 1000, top-up")
            << dirichlet << params(alpha, 0.5) << 1000 << 50 << quint64(0xdf97b51422d37745ull);
        QTest::newRow("dirichlet 100, 1000")
            << dirichlet << params(alpha, 100) << 1000 << 10 << quint64(0xcc6d31b92948cffdull);
        QTest::newRow("dirichlet 1e-3, 20, top-up")
            << dirichlet << params(alpha, 1e-3) << 20 << 100 << quint64(0x41fd624298be7869ull);
        QTest::newRow("iid, 20") << QStringLiteral("iid") << QJsonObject() << 20 << 10
                                 << quint64(0xfd6d823b9a671b5full);
        QTest::newRow("quantity-skew 0.5, 50") << QStringLiteral("quantity-skew") << params(alpha, 0.5) << 50
                                               << 10 << quint64(0x5c2912510daa467full);
        QTest::newRow("shards 2, 100")
            << QStringLiteral("shards") << params(QStringLiteral("shards_per_client"), 2) << 100 << 10
            << quint64(0x63f6ee34dc0a9a0bull);
        QTest::newRow("classes 3, 30")
            << QStringLiteral("classes-per-client") << params(QStringLiteral("classes_per_client"), 3) << 30
            << 10 << quint64(0x950507f808b85d4aull);
    }
    void partitionsMatchTheirRecordedDigests() {
        QFETCH(QString, name);
        QFETCH(QJsonObject, params);
        QFETCH(int, clients);
        QFETCH(int, minSamples);
        QFETCH(quint64, digest);
        const std::vector<int> labels = shuffledLabels(kClasses, 6000, 777);
        const auto shards =
            partitionDataset(*makePartitioner(name, params), makeInput(labels, clients, 42, minSamples, 0.1));
        std::uint64_t h = 1469598103934665603ull;
        const auto mix = [&](std::uint64_t v) {
            for (int b = 0; b < 8; ++b) {
                h ^= (v >> (8 * b)) & 0xFF;
                h *= 1099511628211ull;
            }
        };
        for (const ClientShard &s : shards) {
            mix(s.train.size());
            for (std::int64_t i : s.train)
                mix(std::uint64_t(i));
            mix(s.test.size());
            for (std::int64_t i : s.test)
                mix(std::uint64_t(i));
        }
        QVERIFY2(h == digest, qPrintable(QStringLiteral("digest 0x%1").arg(h, 16, 16, QLatin1Char('0'))));
    }

    void dirichletLargeAlphaIsNearlyUniform() {
        // alpha = 1e5: each class's shares are Dirichlet(1e5, ..., 1e5) over 10 clients, i.e. 0.1 with
        // standard deviation sqrt(0.1 * 0.9 / (10 * 1e5)) ~ 3e-4, so each client gets 60 +- ~1 (rounding) of
        // every class. |p_k - 0.1| <= ~2/600 per class, hence TV <= 0.5 * 10 * 2/600 ~ 0.017; 0.1 leaves a
        // wide margin yet is far below the ~0.9 of a skewed client.
        const std::vector<int> labels = shuffledLabels();
        const auto shards = partitionDataset(
            *makePartitioner(QStringLiteral("dirichlet"), params(QStringLiteral("alpha"), 1e5)),
            makeInput(labels, 10, 11, 10, 0.1));
        for (std::size_t c = 0; c < shards.size(); ++c) {
            const double tv = tvFromUniform(labels, allOf(shards[c]));
            QVERIFY2(tv < 0.1, qPrintable(QStringLiteral("client %1: TV %2").arg(c).arg(tv)));
        }
    }

    void dirichletSmallAlphaIsSkewed() {
        // alpha = 0.05 over 10 clients: E[sum_i p_i^2] = (alpha + 1) / (K alpha + 1) = 1.05 / 1.5 = 0.7, so
        // each class goes almost entirely to one or two clients and a client holds one to three dominant
        // classes (TV 0.9 for one class, 0.8 for two equal ones, 0.7 for three). A mean TV above 0.5 is
        // therefore expected with a margin, while the near-IID case above stays below 0.1.
        const std::vector<int> labels = shuffledLabels();
        for (std::uint64_t seed : {1ull, 2ull, 3ull}) {
            const auto shards = partitionDataset(
                *makePartitioner(QStringLiteral("dirichlet"), params(QStringLiteral("alpha"), 0.05)),
                makeInput(labels, 10, seed, 10, 0.1));
            double mean = 0;
            for (const auto &s : shards)
                mean += tvFromUniform(labels, allOf(s));
            mean /= double(shards.size());
            QVERIFY2(mean > 0.5, qPrintable(QStringLiteral("seed %1: mean TV %2").arg(seed).arg(mean)));
        }
    }

    void dirichletTinyAlphaTopsUpToMinimum() {
        // alpha = 1e-3 puts each class on one client, so with 10 classes at most 10 of the 20 clients get any
        // sample: all 100 redraws fail and the top-up path must move samples to reach min_samples = 100.
        const std::vector<int> labels = shuffledLabels();
        const auto shards = partitionDataset(
            *makePartitioner(QStringLiteral("dirichlet"), params(QStringLiteral("alpha"), 1e-3)),
            makeInput(labels, 20, 5, 100, 0.1));
        QCOMPARE(int(shards.size()), 20);
        const QString problem = coverageProblem(shards, labels.size());
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        for (std::size_t c = 0; c < shards.size(); ++c)
            QVERIFY2(shards[c].train.size() + shards[c].test.size() >= 100,
                     qPrintable(QStringLiteral("client %1 has %2 samples")
                                    .arg(c)
                                    .arg(shards[c].train.size() + shards[c].test.size())));
        // Exactly at the minimum is enough: 20 x 300 = 6000 leaves no slack, and must still work.
        const auto tight = partitionDataset(
            *makePartitioner(QStringLiteral("dirichlet"), params(QStringLiteral("alpha"), 1e-3)),
            makeInput(labels, 20, 5, 300, 0.1));
        for (const auto &s : tight)
            QCOMPARE(s.train.size() + s.test.size(), std::size_t(300));
        QVERIFY(coverageProblem(tight, labels.size()).isEmpty());
    }

    void classesPerClientHoldsExactlyK() {
        const std::vector<int> labels = shuffledLabels();
        for (int k : {1, 2, 5, 10}) {
            const auto shards =
                partitionDataset(*makePartitioner(QStringLiteral("classes-per-client"),
                                                  params(QStringLiteral("classes_per_client"), k)),
                                 makeInput(labels, 10, 9, 10, 0.1));
            for (std::size_t c = 0; c < shards.size(); ++c) {
                QCOMPARE(distinctLabels(labels, allOf(shards[c])), k);
                // The local test split only contains the client's own classes.
                std::set<int> own;
                for (std::int64_t i : shards[c].train)
                    own.insert(labels[std::size_t(i)]);
                for (std::int64_t i : shards[c].test)
                    QVERIFY(own.count(labels[std::size_t(i)]) == 1);
            }
            QVERIFY(coverageProblem(shards, labels.size()).isEmpty());
        }
    }

    void classesPerClientTooManyClasses() {
        const std::vector<int> labels = shuffledLabels();
        const auto e =
            partitionError(QStringLiteral("classes-per-client"),
                           params(QStringLiteral("classes_per_client"), 11), makeInput(labels, 10, 1));
        QVERIFY2(e.has_value(), "11 classes per client out of 10 were accepted");
        QCOMPARE(e->path(), QStringLiteral("partition.classes_per_client"));
        QVERIFY2(QString::fromUtf8(e->what()).contains(QLatin1String("11")), e->what());
    }

    void shardsAreSingleClass() {
        // 20 clients x 2 shards = 40 shards of 6000 / 40 = 150 label-sorted samples; 600 per class is a
        // multiple of 150, so no shard straddles two classes and every client holds at most 2 labels, 300
        // samples.
        for (bool sorted : {true, false}) {
            const std::vector<int> labels = sorted ? orderedLabels() : shuffledLabels();
            const auto shards = partitionDataset(
                *makePartitioner(QStringLiteral("shards"), params(QStringLiteral("shards_per_client"), 2)),
                makeInput(labels, 20, 4, 10, 0.1));
            std::set<int> labelsUsed;
            for (std::size_t c = 0; c < shards.size(); ++c) {
                const auto idx = allOf(shards[c]);
                QCOMPARE(idx.size(), std::size_t(300));
                const int d = distinctLabels(labels, idx);
                QVERIFY2(d >= 1 && d <= 2,
                         qPrintable(QStringLiteral("client %1 holds %2 labels").arg(c).arg(d)));
                // Each label appears in multiples of a whole shard (150).
                for (std::int64_t count : labelHistogram(labels, kClasses, idx))
                    QCOMPARE(count % 150, std::int64_t(0));
                for (std::int64_t i : idx)
                    labelsUsed.insert(labels[std::size_t(i)]);
            }
            QCOMPARE(int(labelsUsed.size()), kClasses);
        }
    }

    void shardsNeedEnoughSamples() {
        const std::vector<int> labels = orderedLabels(10, 3); // 30 samples
        const auto e =
            partitionError(QStringLiteral("shards"), params(QStringLiteral("shards_per_client"), 4),
                           makeInput(labels, 10, 1, 2, 0.0));
        QVERIFY2(e.has_value(), "40 shards of 30 samples were accepted");
        QCOMPARE(e->path(), QStringLiteral("partition.shards_per_client"));
    }

    void quantitySkewSizesVaryLabelsDoNot() {
        const std::vector<int> labels = shuffledLabels();
        // alpha = 0.1 over 20 clients: the Dirichlet shares are extremely uneven (most near 0, a few large),
        // so the largest client has hundreds of samples and the smallest sits at min_samples = 50: ratio
        // >> 5.
        const auto skewed = partitionDataset(
            *makePartitioner(QStringLiteral("quantity-skew"), params(QStringLiteral("alpha"), 0.1)),
            makeInput(labels, 20, 6, 50, 0.1));
        std::size_t lo = SIZE_MAX, hi = 0;
        for (std::size_t c = 0; c < skewed.size(); ++c) {
            const auto idx = allOf(skewed[c]);
            lo = std::min(lo, idx.size());
            hi = std::max(hi, idx.size());
            QVERIFY2(idx.size() >= 50,
                     qPrintable(QStringLiteral("client %1 has %2 < 50").arg(c).arg(idx.size())));
            // Labels stay IID: for a client of n samples the multinomial noise gives E|p_k - 0.1| ~ 0.8 *
            // sqrt(0.09 / n), so TV ~ 0.5 * 10 * that = 0.076 for n = 250 (0.05 for n = 500); 0.2 is a safe
            // bound (label-skewed clients are at 0.7 - 0.9).
            if (idx.size() >= 250) {
                const double tv = tvFromUniform(labels, idx);
                QVERIFY2(tv < 0.2,
                         qPrintable(
                             QStringLiteral("client %1 (%2 samples): TV %3").arg(c).arg(idx.size()).arg(tv)));
            }
        }
        QVERIFY2(double(hi) / double(lo) > 5.0, qPrintable(QStringLiteral("sizes %1..%2").arg(lo).arg(hi)));
        QVERIFY(hi >= 500); // so the IID-label check above ran at least once

        // alpha = 1e5: nearly equal shares: 50 + 5000/20 = 300 +- a few.
        const auto even = partitionDataset(
            *makePartitioner(QStringLiteral("quantity-skew"), params(QStringLiteral("alpha"), 1e5)),
            makeInput(labels, 20, 6, 50, 0.1));
        lo = SIZE_MAX;
        hi = 0;
        for (const auto &s : even) {
            lo = std::min(lo, s.train.size() + s.test.size());
            hi = std::max(hi, s.train.size() + s.test.size());
        }
        QVERIFY2(double(hi) / double(lo) < 1.1, qPrintable(QStringLiteral("sizes %1..%2").arg(lo).arg(hi)));
    }

    void naturalGroupsByOwnerId() {
        const std::vector<int> labels = shuffledLabels();
        std::vector<int> ids(labels.size());
        for (std::size_t i = 0; i < ids.size(); ++i)
            ids[i] = int((i % 5 == 0) ? 0 : 1 + (i % 4)); // 5 owners
        const auto shards = partitionDataset(*makePartitioner(QStringLiteral("natural"), {}),
                                             makeInput(labels, 5, 1, 10, 0.1, &ids));
        QCOMPARE(int(shards.size()), 5);
        for (std::size_t c = 0; c < shards.size(); ++c)
            for (std::int64_t i : allOf(shards[c]))
                QCOMPARE(ids[std::size_t(i)], int(c));
        QVERIFY(coverageProblem(shards, labels.size()).isEmpty());
    }

    void naturalRejectsIdOutsideRange_data() {
        QTest::addColumn<int>("badId");
        QTest::newRow("equal to count") << 5;
        QTest::newRow("negative") << -1;
    }
    void naturalRejectsIdOutsideRange() {
        QFETCH(int, badId);
        const std::vector<int> labels = shuffledLabels();
        std::vector<int> ids(labels.size());
        for (std::size_t i = 0; i < ids.size(); ++i)
            ids[i] = int(i % 5);
        ids[1234] = badId;
        const auto e = partitionError(QStringLiteral("natural"), {}, makeInput(labels, 5, 1, 10, 0.1, &ids));
        QVERIFY2(e.has_value(), "an owner id outside [0, clients.count) was accepted");
        QCOMPARE(e->path(), QStringLiteral("clients.count"));
        QVERIFY2(QString::fromUtf8(e->what()).contains(QString::number(badId)), e->what());
    }

    void naturalNeedsIds() {
        const std::vector<int> labels = shuffledLabels();
        const auto e = partitionError(QStringLiteral("natural"), {}, makeInput(labels, 5, 1));
        QVERIFY2(e.has_value(), "natural partition without owner ids was accepted");
        QCOMPARE(e->path(), QStringLiteral("partition.name"));
    }

    void tooFewSamplesForMinimum() {
        // 10 clients x 601 = 6010 > 6000 samples.
        const std::vector<int> labels = shuffledLabels();
        for (const QString &name :
             {QStringLiteral("iid"), QStringLiteral("dirichlet"), QStringLiteral("shards")}) {
            const auto e = partitionError(name, {}, makeInput(labels, 10, 1, 601));
            QVERIFY2(e.has_value(),
                     qPrintable(name + QStringLiteral(": an impossible minimum was accepted")));
            QCOMPARE(e->path(), QStringLiteral("partition.min_samples"));
            QVERIFY2(QString::fromUtf8(e->what()).contains(QLatin1String("6000")), e->what());
        }
        // 10 x 600 = 6000 is exactly possible.
        const auto shards =
            partitionDataset(*makePartitioner(QStringLiteral("iid"), {}), makeInput(labels, 10, 1, 600));
        for (const auto &s : shards)
            QCOMPARE(s.train.size() + s.test.size(), std::size_t(600));
    }

    void clientMissingItsMinimumIsReported() {
        // classes-per-client, k = 1, 15 clients: client c holds class c mod 10, so classes 0-4 are shared by
        // two clients (300 samples each) and classes 5-9 held by one (600). min_samples = 301 passes the
        // overall check (15 x 301 = 4515 <= 6000) but clients 0-4 and 10-14 fall short.
        const std::vector<int> labels = shuffledLabels();
        const auto e =
            partitionError(QStringLiteral("classes-per-client"),
                           params(QStringLiteral("classes_per_client"), 1), makeInput(labels, 15, 1, 301));
        QVERIFY2(e.has_value(), "a client below min_samples was accepted");
        QCOMPARE(e->path(), QStringLiteral("partition.min_samples"));
    }

    void invalidInputs() {
        const std::vector<int> labels = shuffledLabels();
        const auto unknown = partitionError([] { makePartitioner(QStringLiteral("random"), {}); });
        QVERIFY2(unknown.has_value(), "an unknown partitioner was made");
        QCOMPARE(unknown->path(), QStringLiteral("partition.name"));
        const auto noClients = partitionError(QStringLiteral("iid"), {}, makeInput(labels, 0, 1));
        QVERIFY2(noClients.has_value(), "zero clients were accepted");
        QCOMPARE(noClients->path(), QStringLiteral("clients.count"));
    }

    void labelHistogramCounts() {
        const std::vector<int> labels{0, 1, 1, 2, 2, 2, 9};
        const auto h = labelHistogram(labels, kClasses, {0, 1, 3, 4, 6});
        const std::vector<std::int64_t> expected{1, 1, 2, 0, 0, 0, 0, 0, 0, 1};
        QVERIFY(h == expected);
    }

    // --- Rng ------------------------------------------------------------------------------------------
    void deriveSeedSeparatesKeys() {
        const std::uint64_t base = deriveSeed(1, "train", 3, 4);
        QCOMPARE(deriveSeed(1, "train", 3, 4), base);
        QVERIFY(deriveSeed(2, "train", 3, 4) != base);  // seed
        QVERIFY(deriveSeed(1, "select", 3, 4) != base); // purpose
        QVERIFY(deriveSeed(1, "train", 5, 4) != base);  // round
        QVERIFY(deriveSeed(1, "train", 3, 5) != base);  // client
        QVERIFY(deriveSeed(1, "train", 4, 3) != base);  // the indices are not interchangeable
        QVERIFY(deriveSeed(1, "train") != deriveSeed(1, "train", 0));
        // Many (round, client) keys: no collisions.
        std::set<std::uint64_t> keys;
        for (int r = 0; r < 50; ++r)
            for (int c = 0; c < 50; ++c)
                keys.insert(deriveSeed(1, "train", r, c));
        QCOMPARE(int(keys.size()), 2500);
    }

    void rngSameKeySameSequence() {
        Rng a(deriveSeed(9, "x", 1, 2)), b(9, "x", 1, 2), c(9, "x", 1, 3);
        bool differs = false;
        for (int i = 0; i < 1000; ++i) {
            const std::uint64_t va = a.next(), vc = c.next();
            QCOMPARE(va, b.next());
            differs = differs || va != vc;
        }
        QVERIFY(differs);
        // Mixed draws stay in step too (normal() keeps a spare internally).
        Rng d(77), e(77);
        for (int i = 0; i < 200; ++i) {
            QCOMPARE(d.normal(), e.normal());
            QCOMPARE(d.gamma(0.3), e.gamma(0.3));
            QCOMPARE(d.uniform(), e.uniform());
        }
    }

    void rngDirichletSumsToOne() {
        Rng rng(5, "dirichlet-test");
        for (double alpha : {1e-4, 0.05, 0.5, 1.0, 10.0, 1e5}) {
            for (int k : {1, 2, 10, 100}) {
                const std::vector<double> p = rng.dirichlet(alpha, k);
                QCOMPARE(int(p.size()), k);
                double sum = 0;
                for (double v : p) {
                    QVERIFY(v >= 0.0 && v <= 1.0);
                    sum += v;
                }
                QVERIFY2(std::abs(sum - 1.0) < 1e-12,
                         qPrintable(
                             QStringLiteral("alpha %1 k %2: sum %3").arg(alpha).arg(k).arg(sum, 0, 'g', 17)));
            }
        }
    }

    void rngGammaMean_data() {
        QTest::addColumn<double>("shape");
        QTest::newRow("0.5") << 0.5;
        QTest::newRow("2") << 2.0;
        QTest::newRow("5") << 5.0;
    }
    void rngGammaMean() {
        // Gamma(k, 1) has mean k and variance k. Over N = 20000 draws the sample mean has standard error
        // sqrt(k / N): relative 1 / sqrt(N k) = 1.0% (k = 0.5), 0.5% (k = 2), 0.32% (k = 5); a 3% tolerance
        // is
        // >= 3 standard errors. The sample variance (relative SE ~ sqrt((mu4 / k^2 - 1) / N) = sqrt((3 + 6/k
        // - 1) / N), 2.6% for k = 0.5) is held to 10%.
        QFETCH(double, shape);
        const int n = 20000;
        for (std::uint64_t seed : {1ull, 2ull}) {
            Rng rng(seed, "gamma-test");
            double sum = 0, sumSq = 0;
            for (int i = 0; i < n; ++i) {
                const double x = rng.gamma(shape);
                QVERIFY(x >= 0.0);
                sum += x;
                sumSq += x * x;
            }
            const double mean = sum / n;
            const double var = sumSq / n - mean * mean;
            QVERIFY2(std::abs(mean - shape) < 0.03 * shape, qPrintable(QStringLiteral("mean %1").arg(mean)));
            QVERIFY2(std::abs(var - shape) < 0.10 * shape,
                     qPrintable(QStringLiteral("variance %1").arg(var)));
        }
    }

    void rngNormalMoments() {
        // N = 100000 standard normals: SE of the mean 1 / sqrt(N) = 0.0032, of the variance sqrt(2 / N) =
        // 0.0045; tolerances are 4 standard errors.
        const int n = 100000;
        Rng rng(3, "normal-test");
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; ++i) {
            const double x = rng.normal();
            sum += x;
            sumSq += x * x;
        }
        const double mean = sum / n;
        const double var = sumSq / n - mean * mean;
        QVERIFY2(std::abs(mean) < 4 * 0.0032, qPrintable(QStringLiteral("mean %1").arg(mean)));
        QVERIFY2(std::abs(var - 1.0) < 4 * 0.0045, qPrintable(QStringLiteral("variance %1").arg(var)));
        // The shifted form.
        Rng shifted(3, "normal-test-2");
        double s2 = 0;
        for (int i = 0; i < n; ++i)
            s2 += shifted.normal(10.0, 2.0);
        QVERIFY(std::abs(s2 / n - 10.0) < 4 * 2.0 * 0.0032);
    }

    void rngUniformAndBelow() {
        Rng rng(4, "below-test");
        for (int i = 0; i < 10000; ++i) {
            const double u = rng.uniform();
            QVERIFY(u >= 0.0 && u < 1.0);
        }
        QCOMPARE(rng.below(0), std::uint64_t(0));
        QCOMPARE(rng.below(1), std::uint64_t(0));
        for (std::uint64_t n : {2ull, 7ull, 10ull, 1000ull}) {
            std::vector<int> hits(std::size_t(n), 0);
            const int draws = int(n) * 100;
            for (int i = 0; i < draws; ++i) {
                const std::uint64_t v = rng.below(n);
                QVERIFY(v < n);
                hits[std::size_t(v)] += 1;
            }
            // Expected 100 hits per value (binomial SD ~ 10): every value of [0, n) is hit, none absurdly
            // often.
            for (std::uint64_t v = 0; v < n; ++v) {
                QVERIFY2(hits[std::size_t(v)] > 40 && hits[std::size_t(v)] < 160,
                         qPrintable(QStringLiteral("below(%1) gave %2 %3 times")
                                        .arg(n)
                                        .arg(v)
                                        .arg(hits[std::size_t(v)])));
            }
        }
        // A huge bound (not a power of two) stays in range.
        const std::uint64_t big = (std::uint64_t(1) << 63) + 12345;
        for (int i = 0; i < 1000; ++i)
            QVERIFY(rng.below(big) < big);
    }

    void rngShuffleIsPermutation() {
        std::vector<int> v(1000);
        for (int i = 0; i < 1000; ++i)
            v[std::size_t(i)] = i;
        std::vector<int> w = v;
        Rng(1, "shuffle-test").shuffle(w);
        QVERIFY(w != v);
        std::vector<int> sorted = w;
        std::sort(sorted.begin(), sorted.end());
        QVERIFY(sorted == v);
        std::vector<int> w2 = v;
        Rng(1, "shuffle-test").shuffle(w2);
        QVERIFY(w2 == w);
    }
};

QTEST_GUILESS_MAIN(TestPartition)
#include "test_partition.moc"
