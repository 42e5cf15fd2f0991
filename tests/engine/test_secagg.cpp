// Secure aggregation (engine/privacy/SecureAggregation.h) against values computed here independently: plain
// float sums in double, quantization bounds derived by hand, a chi-square uniformity test, dropout patterns
// constructed on the ring, the central-DP noise level, workspace validation, and a short run through the
// round loop recorded in a store.
//
// The protocol draws its keys, self-mask seeds and Shamir coefficients from libsodium's randombytes_buf.
// This test binary installs libsodium's own deterministic generator (randombytes_buf_deterministic, keyed by
// a counter) before libsodium starts, so every run of these tests sees the same masks: the chi-square test
// has a fixed outcome instead of failing once in a thousand runs. Production code never does this.
#include "privacy/CentralDp.h"
#include "privacy/SecureAggregation.h"
#include "run/Run.h"
#include "run/StoreRecorder.h"
#include "spec/Registry.h"
#include "store/RunStore.h"
#include "util/Rng.h"

#include "test_support.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QJsonArray>
#include <QtEndian>
#include <QtTest>

#include <sodium.h>

#include <cmath>
#include <cstring>
#include <set>

using namespace fedwb;
using namespace fedwb::privacy;

namespace {

// libsodium's deterministic generator, one fresh seed (a counter) per call.
std::uint64_t g_randomCounter = 0;
void deterministicBuf(void *const buf, const size_t size) {
    unsigned char seed[randombytes_SEEDBYTES] = {};
    const std::uint64_t c = ++g_randomCounter;
    std::memcpy(seed, &c, sizeof c);
    randombytes_buf_deterministic(buf, size, seed);
}
uint32_t deterministicRandom() {
    uint32_t r;
    deterministicBuf(&r, sizeof r);
    return r;
}
const char *deterministicName() {
    return "fedwb-test-deterministic";
}
randombytes_implementation g_deterministic = {deterministicName, deterministicRandom, nullptr,
                                              nullptr,           deterministicBuf,    nullptr};

// n updates of `size` values uniform in [-amplitude, amplitude], from the test's own generator.
std::vector<std::vector<float>> randomUpdates(int n, std::size_t size, double amplitude, std::uint64_t seed) {
    Rng rng(seed, "test-updates");
    std::vector<std::vector<float>> u(static_cast<std::size_t>(n), std::vector<float>(size));
    for (auto &v : u)
        for (float &x : v)
            x = float((2 * rng.uniform() - 1) * amplitude);
    return u;
}

std::vector<SecAggInput> inputsOf(const std::vector<int> &ids, const std::vector<std::vector<float>> &updates,
                                  const std::set<int> &dropped = {}) {
    std::vector<SecAggInput> in;
    for (std::size_t i = 0; i < ids.size(); ++i)
        in.push_back({ids[i],
                      dropped.count(ids[i]) ? std::span<const float>() : std::span<const float>(updates[i]),
                      dropped.count(ids[i]) > 0});
    return in;
}

// Sum in double of the updates of the clients not in `dropped`.
std::vector<double> plainSum(const std::vector<int> &ids, const std::vector<std::vector<float>> &updates,
                             const std::set<int> &dropped = {}) {
    std::vector<double> s(updates.front().size(), 0.0);
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (!dropped.count(ids[i]))
            for (std::size_t j = 0; j < s.size(); ++j)
                s[j] += double(updates[i][j]);
    return s;
}

double maxAbsDifference(const std::vector<double> &a, const std::vector<double> &b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

// Pearson's statistic over 16 equal buckets of [0, 2^32) (the top four bits of each word).
double chiSquare16(const std::vector<std::uint64_t> &words) {
    std::vector<double> counts(16, 0.0);
    for (std::uint64_t w : words)
        counts[std::size_t(w >> 28)] += 1;
    const double expected = double(words.size()) / 16;
    double chi = 0;
    for (double c : counts)
        chi += (c - expected) * (c - expected) / expected;
    return chi;
}
// The chi-square distribution with 15 degrees of freedom exceeds this with probability 0.001 (tables).
constexpr double kChiSquare15At0001 = 37.697;

std::vector<std::uint64_t> wordsOf(const QByteArray &maskedInput) {
    const QByteArray packed =
        QCborValue::fromCbor(maskedInput).toMap().value(QStringLiteral("words")).toByteArray();
    std::vector<std::uint64_t> w(std::size_t(packed.size() / 4));
    for (std::size_t i = 0; i < w.size(); ++i)
        w[i] = qFromLittleEndian<std::uint32_t>(packed.constData() + 4 * i);
    return w;
}

QJsonObject syntheticWorkspace() {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 8}, {QStringLiteral("per_round"), 6}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("training"),
         QJsonObject{{QStringLiteral("lr"), 0.05}, {QStringLiteral("batch_size"), 16}}},
        {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("weighting"), QStringLiteral("uniform")}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 4},
                                            {QStringLiteral("seed"), 3},
                                            {QStringLiteral("threads"), 1}}}};
}

struct Collector : RunObserver {
    std::vector<RoundMetrics> rounds;
    QStringList messages;
    QByteArray model;
    void roundFinished(const RoundMetrics &m) override { rounds.push_back(m); }
    void message(const QString &text) override { messages << text; }
    void finalModel(const QByteArray &bytes, std::int64_t) override { model = bytes; }
};

std::vector<double> floatsAsDoubles(const QByteArray &bytes) {
    const auto *p = reinterpret_cast<const float *>(bytes.constData());
    return std::vector<double>(p, p + bytes.size() / qsizetype(sizeof(float)));
}

} // namespace

class TestSecAgg : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        // Before anything starts libsodium (randombytes_set_implementation must precede sodium_init).
        QCOMPARE(randombytes_set_implementation(&g_deterministic), 0);
        QVERIFY(sodium_init() >= 0);
        registerBuiltins();
    }

    // The dequantized sum is the plain sum within n * step per coordinate, step = 2 c / (Q - 1): each
    // client's stochastic rounding moves a coordinate by less than one step. Ids need not be contiguous.
    void sumMatchesThePlainSumWithinTheQuantizationBound_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("numShares");
        QTest::addColumn<int>("threshold");
        QTest::addColumn<qint64>("modulus");
        QTest::addColumn<qint64>("quantization");
        QTest::newRow("2 clients, everyone") << 2 << 0 << 0 << qint64(4294967296) << qint64(4194304);
        QTest::newRow("3 clients, window 3, t 2") << 3 << 3 << 2 << qint64(4294967296) << qint64(4194304);
        QTest::newRow("7 clients, window 3, t 2") << 7 << 3 << 2 << qint64(4294967296) << qint64(4194304);
        QTest::newRow("9 clients, window 5, t 3") << 9 << 5 << 3 << qint64(4294967296) << qint64(4194304);
        QTest::newRow("12 clients, window 7, t 7") << 12 << 7 << 7 << qint64(4294967296) << qint64(4194304);
        QTest::newRow("10 clients, everyone, t 10") << 10 << 0 << 10 << qint64(4294967296) << qint64(4194304);
        // 3^20 is not a power of two: masks by rejection sampling.
        QTest::newRow("6 clients, M = 3^20") << 6 << 5 << 3 << qint64(3486784401) << qint64(4194304);
        // Above 2^32: 8-byte words; a finer grid.
        QTest::newRow("5 clients, M = 2^40") << 5 << 0 << 0 << qint64(1099511627776) << qint64(1073741824);
    }
    void sumMatchesThePlainSumWithinTheQuantizationBound() {
        QFETCH(int, n);
        QFETCH(int, numShares);
        QFETCH(int, threshold);
        QFETCH(qint64, modulus);
        QFETCH(qint64, quantization);
        SecAggParams p;
        p.numShares = numShares;
        p.reconstructionThreshold = threshold;
        p.modulusRange = std::uint64_t(modulus);
        p.quantizationRange = std::uint64_t(quantization);
        std::vector<int> ids;
        for (int i = 0; i < n; ++i)
            ids.push_back(3 * i + (i % 2)); // 0, 4, 6, 10, 12, ...
        const std::size_t size = 777;
        const auto updates = randomUpdates(n, size, 2.0, std::uint64_t(n * 1000 + numShares));
        const SecAggReport r = runSecureAggregation(p, 4, 11, inputsOf(ids, updates), size);
        QVERIFY2(r.ok, qPrintable(r.failure));
        QCOMPARE(int(r.survivors.size()), n);
        const double step = 2 * 8.0 / double(quantization - 1);
        const double error = maxAbsDifference(r.sum, plainSum(ids, updates));
        QVERIFY2(error <= n * step, qPrintable(QStringLiteral("%1 > %2").arg(error).arg(n * step)));
        QVERIFY(error > 0); // stochastic rounding did happen
        QCOMPARE(r.windowSize, numShares == 0 ? n : numShares);
        QCOMPARE(r.threshold, threshold == 0 ? n / 2 + 1 : threshold);
        // The masked inputs are 4-byte words up to 2^32, 8-byte above.
        const int width = modulus <= 4294967296 ? 4 : 8;
        QVERIFY(r.maskedInput.bytesUp >= qint64(n) * qint64(size) * width);
        QVERIFY(r.maskedInput.bytesUp < qint64(n) * (qint64(size) * width + 64));
        QVERIFY(r.advertiseKeys.bytesUp >= n * 64 && r.shareKeys.bytesUp > 0 && r.unmask.bytesUp > 0);
    }

    // Clipping to [-c, c] happens before quantizing: a coordinate of 5 with c = 1 counts as 1.
    void coordinatesAreClipped() {
        SecAggParams p;
        p.clippingRange = 1.0;
        const std::vector<std::vector<float>> updates{
            {5.f, -7.f, 0.5f}, {5.f, 0.25f, -0.5f}, {-3.f, 1.f, 0.f}};
        const SecAggReport r = runSecureAggregation(p, 1, 1, inputsOf({0, 1, 2}, updates), 3);
        QVERIFY2(r.ok, qPrintable(r.failure));
        const std::vector<double> expected{1 + 1 - 1, -1 + 0.25 + 1, 0.5 - 0.5 + 0};
        QVERIFY(maxAbsDifference(r.sum, expected) <= 3 * 2.0 / (4194304 - 1));
    }

    // Masks cancel exactly: with c = 1 and Q = 3 the grid step is 1, so the inputs -1, 0, 1 quantize to 0, 1,
    // 2 without rounding; the modular sum is sum(x + 1) and the dequantized sum is sum(x), exactly, also with
    // a dropout and a modulus that is not a power of two.
    void masksCancelExactly_data() {
        QTest::addColumn<qint64>("modulus");
        QTest::addColumn<int>("drop");
        QTest::newRow("2^32") << qint64(4294967296) << -1;
        QTest::newRow("2^32, client 9 drops") << qint64(4294967296) << 9;
        QTest::newRow("1000003, client 2 drops") << qint64(1000003) << 2;
        QTest::newRow("2^53") << qint64(9007199254740992) << 5;
    }
    void masksCancelExactly() {
        QFETCH(qint64, modulus);
        QFETCH(int, drop);
        SecAggParams p;
        p.numShares = 3;
        p.reconstructionThreshold = 2;
        p.clippingRange = 1.0;
        p.quantizationRange = 3;
        p.modulusRange = std::uint64_t(modulus);
        const std::vector<int> ids{0, 2, 5, 9, 13, 14};
        Rng rng(99, "test-ternary");
        std::vector<std::vector<float>> updates(ids.size(), std::vector<float>(4000));
        for (auto &u : updates)
            for (float &x : u)
                x = float(int(rng.below(3)) - 1);
        std::set<int> dropped;
        if (drop >= 0) dropped.insert(drop);
        const SecAggReport r = runSecureAggregation(p, 2, 5, inputsOf(ids, updates, dropped), 4000);
        QVERIFY2(r.ok, qPrintable(r.failure));
        for (std::size_t j = 0; j < 4000; ++j) {
            std::uint64_t q = 0;
            double x = 0;
            for (std::size_t i = 0; i < ids.size(); ++i)
                if (!dropped.count(ids[i])) {
                    q += std::uint64_t(updates[i][j] + 1);
                    x += updates[i][j];
                }
            QCOMPARE(r.modularSum[j], q);
            QCOMPARE(r.sum[j], x);
        }
    }

    // One masked vector is indistinguishable from uniform words; the quantized vector it hides is not: all
    // its words are below Q = 2^22, in the lowest of 16 buckets, so the same test rejects it.
    void maskedVectorLooksUniform() {
        SecAggParams p; // defaults: M = 2^32, Q = 2^22, c = 8
        const std::vector<int> ids{1, 2, 3, 4, 5};
        const std::size_t size = 16384;
        const auto updates = randomUpdates(5, size, 1.0, 42);
        SecAggServer server(3, ids, p, size);
        std::vector<std::unique_ptr<SecAggClient>> clients;
        for (int id : ids)
            clients.push_back(std::make_unique<SecAggClient>(id));
        for (std::size_t i = 0; i < ids.size(); ++i)
            server.receivePublicKeys(ids[i], clients[i]->advertiseKeys(server.setup()));
        for (std::size_t i = 0; i < ids.size(); ++i)
            server.receiveShares(ids[i], clients[i]->shareKeys(server.publicKeysFor(ids[i])));
        QByteArray first;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const QByteArray masked = clients[i]->maskedInput(server.ciphertextsFor(ids[i]), updates[i],
                                                              deriveSeed(7, "secagg-quantize", 3, ids[i]));
            if (i == 0) first = masked;
            server.receiveMaskedInput(ids[i], masked);
        }
        const std::vector<std::uint64_t> masked = wordsOf(first);
        QCOMPARE(masked.size(), size);
        const double chiMasked = chiSquare16(masked);
        QVERIFY2(chiMasked < kChiSquare15At0001, qPrintable(QString::number(chiMasked)));

        // The unmasked quantized vector of the same client, computed here: round((x + c) / step).
        const double step = 16.0 / (4194304 - 1);
        std::vector<std::uint64_t> quantized(size);
        for (std::size_t j = 0; j < size; ++j)
            quantized[j] = std::uint64_t(std::llround((double(updates[0][j]) + 8.0) / step));
        const double chiPlain = chiSquare16(quantized);
        QVERIFY2(chiPlain > kChiSquare15At0001, qPrintable(QString::number(chiPlain)));

        // And the protocol still completes: the server's sum is the plain sum within the bound.
        server.closeInputs();
        for (std::size_t i = 0; i < ids.size(); ++i)
            server.receiveRevealedShares(ids[i], clients[i]->unmask(server.unmaskRequestFor(ids[i])));
        const std::vector<double> sum = server.dequantize(server.unmaskedSum());
        QVERIFY(maxAbsDifference(sum, plainSum(ids, updates)) <= 5 * step);
    }

    // Window 5 (two neighbours each side), threshold 3: a window can lose 5 - 3 = 2 clients. Dropping two
    // ring neighbours leaves each of them exactly 3 surviving share holders (the exact limit); dropping a
    // third neighbour leaves the first of them 2, and the round fails with no aggregate.
    void recoveryUpToTheThreshold() {
        SecAggParams p;
        p.numShares = 5;
        p.reconstructionThreshold = 3;
        // Ring positions 0..6 hold ids 3, 8, 11, 20, 21, 30, 42.
        const std::vector<int> ids{3, 8, 11, 20, 21, 30, 42};
        const auto updates = randomUpdates(7, 300, 1.0, 5);
        const double bound = 7 * p.step();

        const std::set<int> two{11, 20}; // positions 2 and 3
        const SecAggReport ok = runSecureAggregation(p, 4, 1, inputsOf(ids, updates, two), 300);
        QVERIFY2(ok.ok, qPrintable(ok.failure));
        QCOMPARE(ok.dropped, (std::vector<int>{11, 20}));
        QCOMPARE(ok.survivors, (std::vector<int>{3, 8, 21, 30, 42}));
        QVERIFY(maxAbsDifference(ok.sum, plainSum(ids, updates, two)) <= bound);
        QCOMPARE(ok.toJson().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));

        const std::set<int> three{11, 20,
                                  21}; // positions 2, 3, 4: the window of 11 (3, 8, 11, 20, 21) keeps 2
        const SecAggReport failed = runSecureAggregation(p, 4, 1, inputsOf(ids, updates, three), 300);
        QVERIFY(!failed.ok);
        QVERIFY(failed.sum.empty() && failed.modularSum.empty());
        QCOMPARE(failed.failure,
                 QStringLiteral(
                     "secure aggregation failed in round 4: client 11 dropped and only 2 of its 4 share "
                     "holders remain; secure_aggregation.reconstruction_threshold is 3 (lower it, or "
                     "raise secure_aggregation.num_shares, to recover from more dropouts)"));
        const QJsonObject json = failed.toJson();
        QCOMPARE(json.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QCOMPARE(json.value(QStringLiteral("reason")).toString(), failed.failure);
        QCOMPARE(json.value(QStringLiteral("dropped")).toArray(), (QJsonArray{11, 20, 21}));
        QCOMPARE(json.value(QStringLiteral("survivors")).toInt(), 4);
        // The steps before the failure ran (and cost); unmasking did not.
        QVERIFY(failed.maskedInput.bytesUp > 0);
        QCOMPARE(failed.unmask.bytesUp, 0);

        // Every client in one window (num_shares 0), threshold 4 of 6: two dropouts recover, three do not.
        SecAggParams all;
        all.reconstructionThreshold = 4;
        const std::vector<int> six{0, 1, 2, 3, 4, 5};
        const auto u6 = randomUpdates(6, 100, 1.0, 6);
        QVERIFY(runSecureAggregation(all, 2, 1, inputsOf(six, u6, {0, 5}), 100).ok);
        const SecAggReport f6 = runSecureAggregation(all, 2, 1, inputsOf(six, u6, {0, 3, 5}), 100);
        QVERIFY(!f6.ok);
        QVERIFY2(
            f6.failure.contains(QStringLiteral("client 0 dropped and only 3 of its 5 share holders remain")),
            qPrintable(f6.failure));
        // Nobody survives: no sum at all.
        QVERIFY(!runSecureAggregation(all, 2, 1, inputsOf(six, u6, {0, 1, 2, 3, 4, 5}), 100).ok);
    }

    // Settings that cannot run a round fail it with the key named, never the run.
    void roundsThatCannotRun() {
        SecAggParams p;
        const auto u = randomUpdates(3, 10, 1.0, 1);
        const SecAggReport one = runSecureAggregation(p, 6, 1, inputsOf({4}, u), 10);
        QVERIFY(!one.ok);
        QVERIFY2(one.failure.contains(QStringLiteral("round 6: only 1 client took part")),
                 qPrintable(one.failure));
        p.reconstructionThreshold = 5;
        const SecAggReport small = runSecureAggregation(p, 6, 1, inputsOf({1, 2, 3}, u), 10);
        QVERIFY(!small.ok);
        QVERIFY2(
            small.failure.contains(QStringLiteral("secure_aggregation.reconstruction_threshold 5 is outside "
                                                  "[2, 3]")),
            qPrintable(small.failure));
        p.reconstructionThreshold = 0;
        p.quantizationRange = std::uint64_t(1) << 31; // 3 * (2^31 - 1) > 2^32 - 1
        const SecAggReport wraps = runSecureAggregation(p, 6, 1, inputsOf({1, 2, 3}, u), 10);
        QVERIFY(!wraps.ok);
        QVERIFY(wraps.failure.contains(QStringLiteral("secure_aggregation.quantization_range")) &&
                wraps.failure.contains(QStringLiteral("secure_aggregation.modulus_range")));
        // No clients at all: an exact zero sum.
        const SecAggReport none = runSecureAggregation(SecAggParams{}, 6, 1, {}, 10);
        QVERIFY(none.ok);
        QCOMPARE(none.sum, std::vector<double>(10, 0.0));
        QCOMPARE(none.toJson().value(QStringLiteral("status")).toString(), QStringLiteral("no-clients"));
    }

    // A client refuses to reveal shares of both kinds for one neighbour, or to unmask with too few
    // survivors: the server's request is checked, not trusted.
    void clientsCheckTheUnmaskRequest() {
        SecAggParams p;
        p.numShares = 3;
        p.reconstructionThreshold = 2;
        const std::vector<int> ids{0, 1, 2, 3};
        const auto updates = randomUpdates(4, 8, 1.0, 2);
        SecAggServer server(1, ids, p, 8);
        std::vector<std::unique_ptr<SecAggClient>> clients;
        for (int id : ids)
            clients.push_back(std::make_unique<SecAggClient>(id));
        for (std::size_t i = 0; i < 4; ++i)
            server.receivePublicKeys(ids[i], clients[i]->advertiseKeys(server.setup()));
        for (std::size_t i = 0; i < 4; ++i)
            server.receiveShares(ids[i], clients[i]->shareKeys(server.publicKeysFor(ids[i])));
        for (std::size_t i = 0; i < 4; ++i)
            server.receiveMaskedInput(ids[i],
                                      clients[i]->maskedInput(server.ciphertextsFor(ids[i]), updates[i], 1));
        server.closeInputs();
        // Client 1's window is 0, 1, 2: a request naming 0 both survived and dropped is refused.
        const auto request = [](QCborArray alive, QCborArray gone) {
            return QCborValue(
                       QCborMap{{QStringLiteral("survivors"), alive}, {QStringLiteral("dropped"), gone}})
                .toCbor();
        };
        QVERIFY_THROWS_EXCEPTION(SecAggFailure, clients[1]->unmask(request({0, 1, 2}, {0})));
        QVERIFY_THROWS_EXCEPTION(SecAggFailure, clients[1]->unmask(request({1}, {0, 2}))); // below t
        QVERIFY_THROWS_EXCEPTION(SecAggFailure, clients[1]->unmask(request({0, 2}, {1}))); // itself dropped
        QVERIFY_THROWS_EXCEPTION(SecAggFailure,
                                 clients[1]->unmask(request({0, 1, 2, 3}, {}))); // 3 not in window
        // The honest request is answered.
        const QByteArray shares = clients[1]->unmask(server.unmaskRequestFor(1));
        QCOMPARE(QCborValue::fromCbor(shares).toArray().size(), 3);
    }

    // Central DP on the secure sum: each client clips to privacy.clip_norm before masking, the server adds
    // N(0, (z S)^2) to the unmasked sum and divides by DP's fixed denominator.
    void centralDpOnTheSecureSum() {
        const std::vector<int> ids{0, 1, 2, 3, 4};
        const std::size_t size = 20000;
        // No noise, clip not binding (norms ~ sqrt(20000 / 3) * 0.01 < 1): the plain sum over the
        // denominator.
        SecAggParams p;
        p.l2ClipNorm = 5.0;
        const auto small = randomUpdates(5, size, 0.01, 8);
        GaussianSumMean exact(5.0, 0.0, 8.0, 1);
        const SecAggReport r = runSecureAggregation(p, 1, 1, inputsOf(ids, small), size);
        QVERIFY2(r.ok, qPrintable(r.failure));
        SecureSumMean mean({r.sum, 0, 5}, &exact);
        std::vector<double> expected = plainSum(ids, small);
        for (double &v : expected)
            v /= 8.0;
        QVERIFY(maxAbsDifference(mean.mean({}, size, 1), expected) <= 5 * p.step() / 8.0);
        // Without DP the mean divides by the survivors.
        for (double &v : expected)
            v *= 8.0 / 5.0;
        QVERIFY(maxAbsDifference(SecureSumMean({r.sum, 0, 5}).mean({}, size, 1), expected) <=
                5 * p.step() / 5.0);

        // Clipping binds: one update of norm 10 clipped to S = 1 on the client.
        std::vector<std::vector<float>> big(2, std::vector<float>(100, 0.f));
        big[0][0] = 6.f;
        big[0][1] = 8.f; // norm 10
        p.l2ClipNorm = 1.0;
        const SecAggReport clipped = runSecureAggregation(p, 1, 1, inputsOf({0, 1}, big), 100);
        QVERIFY(clipped.ok);
        QVERIFY(std::abs(clipped.sum[0] - 0.6) <= 2 * p.step() &&
                std::abs(clipped.sum[1] - 0.8) <= 2 * p.step());

        // Noise z = 1, S = 0.5, denominator 10 on zero updates: the mean's coordinates are N(0, (zS / 10)^2).
        p.l2ClipNorm = 0.5;
        GaussianSumMean noisy(0.5, 1.0, 10.0, 77);
        const std::vector<std::vector<float>> zeros(5, std::vector<float>(size, 0.f));
        const SecAggReport z = runSecureAggregation(p, 3, 1, inputsOf(ids, zeros), size);
        QVERIFY(z.ok);
        const std::vector<double> released = SecureSumMean({z.sum, 0, 5}, &noisy).mean({}, size, 3);
        double m = 0, sq = 0;
        for (double v : released)
            m += v;
        m /= double(size);
        for (double v : released)
            sq += (v - m) * (v - m);
        const double sd = std::sqrt(sq / double(size - 1)), sigma = 1.0 * 0.5 / 10.0;
        // The sample mean is within 4 standard errors of 0, the standard deviation within 3% of sigma (its
        // standard error is sigma / sqrt(2 * 20000) = 0.5%).
        QVERIFY2(std::abs(m) < 4 * sigma / std::sqrt(double(size)), qPrintable(QString::number(m)));
        QVERIFY2(std::abs(sd / sigma - 1) < 0.03, qPrintable(QString::number(sd)));
    }

    // Adaptive clipping: the clients also send whether they were within the round's clip norm, as one more
    // masked word; the secure count is the count computed here, and the mechanism moves its clip norm as it
    // does from the plain updates.
    void adaptiveClippingCountsUnderTheMasks() {
        const std::vector<int> ids{0, 1, 2, 3, 4, 5};
        // Norms 0.5, 1.5, 0.9, 3, 1 (exactly at C), 0.1 with C = 1: 4 within.
        const std::vector<double> norms{0.5, 1.5, 0.9, 3.0, 1.0, 0.1};
        std::vector<std::vector<float>> updates(6, std::vector<float>(50, 0.f));
        for (std::size_t i = 0; i < 6; ++i)
            updates[i][i] = float(norms[i]);
        int within = 0;
        for (double n : norms)
            within += n <= 1.0;
        SecAggParams p;
        p.l2ClipNorm = 1.0;
        p.countUnclipped = true;
        const SecAggReport r = runSecureAggregation(p, 2, 1, inputsOf(ids, updates, {5}), 50);
        QVERIFY2(r.ok, qPrintable(r.failure));
        QCOMPARE(r.unclipped, within - 1); // client 5 (norm 0.1) dropped
        QCOMPARE(r.sum.size(), std::size_t(50));
        QVERIFY(std::abs(r.sum[1] - 1.0) <= 5 * p.step() && std::abs(r.sum[3] - 1.0) <= 5 * p.step());

        const AdaptiveClipping adaptive{0.5, 0.2, 1.0};
        GaussianSumMean viaSecure(1.0, 1.0, 6.0, 9, adaptive), viaPlain(1.0, 1.0, 6.0, 9, adaptive);
        SecureSumMean secure({r.sum, double(r.unclipped), double(r.survivors.size())}, &viaSecure);
        std::vector<ClientUpdate> plain;
        for (std::size_t i = 0; i < 5; ++i) {
            ClientUpdate u;
            u.clientId = ids[i];
            u.delta = updates[i];
            plain.push_back(u);
        }
        const std::vector<double> a = secure.mean({}, 50, 2), b = viaPlain.mean(plain, 50, 2);
        QCOMPARE(viaSecure.clipNorm(), viaPlain.clipNorm());
        QVERIFY(viaSecure.clipNorm() != 1.0);
        QVERIFY(maxAbsDifference(a, b) <= 5 * p.step() / 6.0);
    }

    // Workspace validation names the keys and the allowed range.
    void validation_data() {
        QTest::addColumn<QStringList>("sets");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QStringList>("needles");
        QTest::newRow("krum") << QStringList{QStringLiteral("strategy.name=krum"),
                                             QStringLiteral("strategy.byzantine=1")}
                              << QStringLiteral("secure_aggregation.enabled")
                              << QStringList{QStringLiteral("strategy.name 'krum'"),
                                             QStringLiteral("secure_aggregation.enabled true"),
                                             QStringLiteral("fedavg, fedavgm")};
        QTest::newRow("overflow")
            << QStringList{QStringLiteral("secure_aggregation.quantization_range=1073741824")}
            << QStringLiteral("secure_aggregation.modulus_range")
            << QStringList{QStringLiteral("clients.per_round (6)"),
                           QStringLiteral("secure_aggregation.quantization_range - 1"),
                           QStringLiteral("secure_aggregation.modulus_range (4294967296)"),
                           QStringLiteral("at most 715827883")};
        QTest::newRow("threshold above num_shares")
            << QStringList{QStringLiteral("secure_aggregation.num_shares=3"),
                           QStringLiteral("secure_aggregation.reconstruction_threshold=4")}
            << QStringLiteral("secure_aggregation.reconstruction_threshold")
            << QStringList{QStringLiteral("4 is more than secure_aggregation.num_shares (3)"),
                           QStringLiteral("[2, 3]")};
        QTest::newRow("num_shares above the round")
            << QStringList{QStringLiteral("secure_aggregation.num_shares=7")}
            << QStringLiteral("secure_aggregation.num_shares")
            << QStringList{QStringLiteral("7 is more than the 6 clients of a round"),
                           QStringLiteral("[3, 6]")};
        QTest::newRow("even num_shares")
            << QStringList{QStringLiteral("secure_aggregation.num_shares=4")}
            << QStringLiteral("secure_aggregation.num_shares")
            << QStringList{QStringLiteral("4 is even"), QStringLiteral("odd number in [3, 6]")};
        QTest::newRow("threshold 1") << QStringList{QStringLiteral(
                                            "secure_aggregation.reconstruction_threshold=1")}
                                     << QStringLiteral("secure_aggregation.reconstruction_threshold")
                                     << QStringList{QStringLiteral("[2, num_shares]")};
        QTest::newRow("one client per round")
            << QStringList{QStringLiteral("clients.per_round=1")} << QStringLiteral("clients.per_round")
            << QStringList{QStringLiteral("at least 2 clients per round")};
        QTest::newRow("modulus out of range")
            << QStringList{QStringLiteral("secure_aggregation.modulus_range=1")}
            << QStringLiteral("secure_aggregation.modulus_range")
            << QStringList{QStringLiteral("[2, 9007199254740992]")};
    }
    void validation() {
        QFETCH(QStringList, sets);
        QFETCH(QString, path);
        QFETCH(QStringList, needles);
        QJsonObject raw = syntheticWorkspace();
        QStringList all{QStringLiteral("secure_aggregation.enabled=true")};
        all << sets;
        for (const QString &s : all) {
            QString error;
            QVERIFY2(FederationSpec::applyOverride(raw, s, &error), qPrintable(error));
        }
        const auto parsed = FederationSpec::parse(raw);
        QVERIFY(!parsed.ok());
        bool found = false;
        for (const SpecIssue &e : parsed.errors) {
            if (e.path != path) continue;
            found = true;
            for (const QString &needle : needles)
                QVERIFY2(e.message.contains(needle), qPrintable(e.text()));
        }
        QVERIFY2(found, qPrintable(parsed.errorText()));
    }
    void validationWarnsAboutSampleWeighting() {
        QJsonObject raw = syntheticWorkspace();
        QString error;
        QVERIFY(
            FederationSpec::applyOverride(raw, QStringLiteral("secure_aggregation.enabled=true"), &error));
        QVERIFY(FederationSpec::applyOverride(raw, QStringLiteral("strategy.weighting=samples"), &error));
        const auto parsed = FederationSpec::parse(raw);
        QVERIFY2(parsed.ok(), qPrintable(parsed.errorText()));
        bool warned = false;
        for (const SpecIssue &w : parsed.warnings)
            warned |= w.path == QLatin1String("strategy.weighting") &&
                      w.message.contains(QStringLiteral("every client counts equally"));
        QVERIFY(warned);
        // Off by default, and then no checks at all.
        const auto plain = FederationSpec::parse(syntheticWorkspace());
        QVERIFY(plain.ok());
        QCOMPARE(plain.spec->boolean(QStringLiteral("secure_aggregation.enabled")), false);
        QVERIFY(!secureAggregationFor(*plain.spec));
    }

    // Through the round loop: the same seed with and without secure aggregation ends close (the quantization
    // error only); every round's protocol costs are in extra.secure_aggregation, in the store and its export;
    // the round's bytes include the protocol's.
    void runWithSecureAggregation() {
        const FederationSpec plainSpec = test::specWith(syntheticWorkspace(), {});
        const FederationSpec secureSpec = test::specWith(
            syntheticWorkspace(), {QStringLiteral("secure_aggregation.enabled=true"),
                                   QStringLiteral("secure_aggregation.num_shares=5"),
                                   QStringLiteral("secure_aggregation.reconstruction_threshold=3")});
        Collector plain, secure;
        Run plainRun(plainSpec);
        plainRun.addObserver(&plain);
        QCOMPARE(plainRun.exec().status, RunStatus::Finished);

        RunStore store(QStringLiteral(":memory:"));
        QVERIFY(store.isOpen());
        StoreRecorder recorder(store, secureSpec, QStringLiteral("secure"), QString());
        QVERIFY(recorder.runId() > 0);
        Run secureRun(secureSpec);
        secureRun.addObserver(&secure);
        secureRun.addObserver(&recorder);
        const RunSummary summary = secureRun.exec();
        QCOMPARE(summary.status, RunStatus::Finished);
        QCOMPARE(int(secure.rounds.size()), 4);

        // The models differ by the rounding only: 4 rounds, each adding a mean within 6 * step / 6 = step of
        // the plain mean (model updates compound it slightly through training): a few steps at most.
        const double step = 16.0 / (4194304 - 1);
        const double drift = maxAbsDifference(floatsAsDoubles(secure.model), floatsAsDoubles(plain.model));
        QVERIFY2(drift < 10 * step, qPrintable(QString::number(drift))); // 4.1e-6 measured
        QVERIFY(secure.model != plain.model);                            // rounding did happen
        QVERIFY(std::abs(secure.rounds.back().testAccuracy - plain.rounds.back().testAccuracy) <= 0.01);

        const std::int64_t modelBytes = secure.model.size();
        for (std::size_t i = 0; i < secure.rounds.size(); ++i) {
            const RoundMetrics &m = secure.rounds[i];
            const QJsonObject sa = m.extra.value(QStringLiteral("secure_aggregation")).toObject();
            QCOMPARE(sa.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
            QCOMPARE(sa.value(QStringLiteral("clients")).toInt(), 6);
            QCOMPARE(sa.value(QStringLiteral("survivors")).toInt(), 6);
            QCOMPARE(sa.value(QStringLiteral("num_shares")).toInt(), 5);
            const QJsonObject steps = sa.value(QStringLiteral("steps")).toObject();
            for (const QString &name : {QStringLiteral("advertise_keys"), QStringLiteral("share_keys"),
                                        QStringLiteral("masked_input"), QStringLiteral("unmask")}) {
                const QJsonObject s = steps.value(name).toObject();
                QVERIFY2(s.value(QStringLiteral("bytes_up")).toInteger() > 0, qPrintable(name));
                QVERIFY2(s.value(QStringLiteral("bytes_down")).toInteger() > 0, qPrintable(name));
                QVERIFY(s.value(QStringLiteral("seconds")).toDouble() >= 0);
            }
            // Bytes: the plain run's minus the float updates, plus the protocol's (the masked vectors
            // included, 4 bytes per parameter with M = 2^32).
            const std::int64_t up = sa.value(QStringLiteral("bytes_up")).toInteger();
            const std::int64_t down = sa.value(QStringLiteral("bytes_down")).toInteger();
            QCOMPARE(m.bytesUp, plain.rounds[i].bytesUp - 6 * modelBytes + up);
            QCOMPARE(m.bytesDown, plain.rounds[i].bytesDown + down);
            QVERIFY(steps.value(QStringLiteral("masked_input"))
                        .toObject()
                        .value(QStringLiteral("bytes_up"))
                        .toInteger() >= 6 * modelBytes);
        }

        // Stored and exported as it was measured.
        const QList<RoundMetrics> stored = store.rounds(recorder.runId());
        QCOMPARE(stored.size(), 4);
        QCOMPARE(stored.front().extra, secure.rounds.front().extra);
        const QJsonArray exported =
            store.exportJson(recorder.runId()).value(QStringLiteral("rounds")).toArray();
        QCOMPARE(exported.size(), 4);
        QCOMPARE(exported.last().toObject().value(QStringLiteral("extra")).toObject(),
                 secure.rounds.back().extra);
    }

    // Central DP through the round loop: the same seed gives the same clipping, the same noise (keyed by
    // round) and the same denominator with and without secure aggregation, so the models differ by the
    // rounding only; epsilon is the same.
    void centralDpRunWithSecureAggregation() {
        const QStringList dp{QStringLiteral("privacy.mode=central"), QStringLiteral("privacy.clip_norm=0.5"),
                             QStringLiteral("privacy.noise_multiplier=1.0")};
        QStringList withSecAgg = dp;
        withSecAgg << QStringLiteral("secure_aggregation.enabled=true");
        Collector plain, secure;
        Run plainRun(test::specWith(syntheticWorkspace(), dp));
        plainRun.addObserver(&plain);
        const RunSummary plainSummary = plainRun.exec();
        Run secureRun(test::specWith(syntheticWorkspace(), withSecAgg));
        secureRun.addObserver(&secure);
        const RunSummary secureSummary = secureRun.exec();
        QCOMPARE(secureSummary.status, RunStatus::Finished);
        QCOMPARE(*secureSummary.epsilon, *plainSummary.epsilon);
        const double drift = maxAbsDifference(floatsAsDoubles(secure.model), floatsAsDoubles(plain.model));
        QVERIFY2(drift < 10 * 16.0 / (4194304 - 1), qPrintable(QString::number(drift)));
        QVERIFY(secure.model != plain.model);

        // Adaptive clipping: the securely summed count moves the clip norm as the plain count does.
        QStringList adaptive = dp;
        adaptive << QStringLiteral("privacy.adaptive_clipping=true")
                 << QStringLiteral("privacy.clip_count_stddev=1");
        QStringList adaptiveSecAgg = adaptive;
        adaptiveSecAgg << QStringLiteral("secure_aggregation.enabled=true");
        Collector plainAdaptive, secureAdaptive;
        Run a(test::specWith(syntheticWorkspace(), adaptive)),
            b(test::specWith(syntheticWorkspace(), adaptiveSecAgg));
        a.addObserver(&plainAdaptive);
        b.addObserver(&secureAdaptive);
        QCOMPARE(a.exec().status, RunStatus::Finished);
        QCOMPARE(b.exec().status, RunStatus::Finished);
        for (std::size_t i = 0; i < plainAdaptive.rounds.size(); ++i) {
            const QJsonObject pa =
                plainAdaptive.rounds[i].extra.value(QStringLiteral("adaptive_clipping")).toObject();
            const QJsonObject sa =
                secureAdaptive.rounds[i].extra.value(QStringLiteral("adaptive_clipping")).toObject();
            QCOMPARE(sa.value(QStringLiteral("next_clip_norm")).toDouble(),
                     pa.value(QStringLiteral("next_clip_norm")).toDouble());
            QVERIFY(sa.value(QStringLiteral("next_clip_norm")).toDouble() != 0.5);
        }
    }

    // With a dropout group and a threshold that tolerates no dropout, rounds where someone drops fail: a
    // warning names the round and the keys, the model stays, extra says failed, and the run goes on.
    void failedRoundsLeaveTheModelAndTheRunGoesOn() {
        QJsonObject raw = syntheticWorkspace();
        raw.insert(QStringLiteral("clients"), test::sixClientsTwoFlaky(0.25));
        const FederationSpec spec =
            test::specWith(raw, {QStringLiteral("secure_aggregation.enabled=true"),
                                 QStringLiteral("secure_aggregation.reconstruction_threshold=6"),
                                 QStringLiteral("run.rounds=6"), QStringLiteral("run.eval_every=1")});
        Collector c;
        Run run(spec);
        run.addObserver(&c);
        QCOMPARE(run.exec().status, RunStatus::Finished);
        QCOMPARE(int(c.rounds.size()), 6);
        int failed = 0, ok = 0;
        for (std::size_t i = 0; i < c.rounds.size(); ++i) {
            const RoundMetrics &m = c.rounds[i];
            const QJsonObject sa = m.extra.value(QStringLiteral("secure_aggregation")).toObject();
            int dropped = 0;
            for (const auto &client : m.clients)
                dropped += client.dropped;
            QCOMPARE(sa.value(QStringLiteral("dropped")).toArray().size(), dropped);
            if (dropped == 0) {
                ++ok;
                QCOMPARE(sa.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
                continue;
            }
            ++failed;
            QCOMPARE(sa.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
            const QString reason = sa.value(QStringLiteral("reason")).toString();
            QVERIFY2(reason.startsWith(
                         QStringLiteral("secure aggregation failed in round %1: client ").arg(m.round)) &&
                         reason.contains(QStringLiteral("secure_aggregation.reconstruction_threshold is 6")),
                     qPrintable(reason));
            QCOMPARE(c.messages.filter(QStringLiteral("warning: ") + reason).size(), 1);
            // The model did not move: the test loss is the previous round's.
            if (i > 0) QCOMPARE(m.testLoss, c.rounds[i - 1].testLoss);
        }
        // probability 0.25 for 2 clients over 6 rounds: the keyed draws give both kinds of round.
        QVERIFY2(failed > 0 && ok > 0, qPrintable(QStringLiteral("%1 failed, %2 ok").arg(failed).arg(ok)));
    }
};

QTEST_GUILESS_MAIN(TestSecAgg)
#include "test_secagg.moc"
