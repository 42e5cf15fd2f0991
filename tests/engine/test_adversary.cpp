// The attacks of client groups on hand-made inputs, against values worked out by hand (or, for the normal
// quantiles, with Python's statistics.NormalDist): sign flipping, scaling, Gaussian noise, ALIE and its
// z_max, label-flip mappings, the backdoor's trigger and its share of poisoned samples.
#include "adversary/Attacks.h"
#include "adversary/Behaviour.h"
#include "spec/Registry.h"
#include "strategy/UpdateStage.h"

#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace fedwb;

namespace {

std::shared_ptr<const Behaviour> behaviour(const char *name, const QJsonObject &params = {}) {
    QJsonObject filled = params; // the defaults validation would fill in
    const ComponentSchema *c = Registry::global().component(QStringLiteral("behaviour"), QLatin1String(name));
    if (!c) qFatal("no behaviour %s", name);
    for (const ParamSchema &p : c->params)
        if (!filled.contains(p.key)) filled.insert(p.key, p.defaultValue);
    return makeBehaviour({QLatin1String(name), filled});
}

// The behaviour's client stages applied to `update` as a task of (round 3, client 5) would apply them.
std::vector<float> attacked(const Behaviour &b, std::vector<float> update, std::uint64_t key = 99) {
    UpdatePipeline(b.updateStages()).apply(update, {3, 5, key});
    return update;
}

// n images of 1 x side x side, every pixel 0, labels 0, 1, 2, ... modulo 10.
struct Images {
    std::vector<float> pixels;
    std::vector<std::int64_t> labels;
    LocalSamples samples;
    Images(int n, int side) {
        pixels.assign(std::size_t(n * side * side), 0.0f);
        for (int i = 0; i < n; ++i)
            labels.push_back(i % 10);
        samples.inputs = pixels;
        samples.labels = labels;
        samples.features = side * side;
        samples.channels = 1;
        samples.height = side;
        samples.width = side;
        samples.classes = 10;
    }
};

} // namespace

class TestAdversary : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    void signFlipSendsMinusScaleTimesTheUpdate() {
        const auto once = behaviour("sign-flip");
        QCOMPARE(attacked(*once, {1.0f, -2.0f, 0.5f}), (std::vector<float>{-1.0f, 2.0f, -0.5f}));
        const auto twice = behaviour("sign-flip", {{QStringLiteral("scale"), 2.5}});
        QCOMPARE(attacked(*twice, {1.0f, -2.0f, 0.0f}), (std::vector<float>{-2.5f, 5.0f, 0.0f}));
        QVERIFY(!twice->poisonsData() && !twice->coordinated() && !twice->backdoor());
    }

    void scaleSendsFactorTimesTheUpdate() {
        const auto ten = behaviour("scale");
        QCOMPARE(attacked(*ten, {0.25f, -3.0f}), (std::vector<float>{2.5f, -30.0f}));
        const auto half = behaviour("scale", {{QStringLiteral("factor"), -0.5}});
        QCOMPARE(attacked(*half, {0.25f, -3.0f}), (std::vector<float>{-0.125f, 1.5f}));
    }

    // The update is replaced by N(0, std^2): over 200,000 coordinates the sample mean is within 5 standard
    // errors of 0 and the sample standard deviation within 1% of std, whatever the update was.
    void gaussianNoiseReplacesTheUpdate() {
        const double std = 2.0;
        const auto noise = behaviour("gaussian-noise", {{QStringLiteral("std"), std}});
        const std::size_t n = 200000;
        const std::vector<float> sent = attacked(*noise, std::vector<float>(n, 1000.0f));
        double sum = 0, squares = 0;
        for (float v : sent)
            sum += v;
        const double mean = sum / double(n);
        for (float v : sent)
            squares += (double(v) - mean) * (double(v) - mean);
        const double sampleStd = std::sqrt(squares / double(n - 1));
        QVERIFY2(std::abs(mean) < 5 * std / std::sqrt(double(n)), qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(sampleStd - std) < 0.01 * std, qPrintable(QString::number(sampleStd)));
        // Keyed: the same task draws the same noise, another task other noise.
        QCOMPARE(attacked(*noise, std::vector<float>(8, 0.0f)),
                 attacked(*noise, std::vector<float>(8, 5.0f)));
        QVERIFY(attacked(*noise, std::vector<float>(8, 0.0f), 99) !=
                attacked(*noise, std::vector<float>(8, 0.0f), 100));
    }

    // Algorithm 3 of Baruch et al. 2019: s = floor(n/2 + 1) - m, z_max = Phi^-1((n - m - s) / (n - m)).
    void alieZMaxFollowsThePaper_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("m");
        QTest::addColumn<double>("z");
        // n = 10, m = 3: s = 3, Phi^-1(4/7); n = 20, m = 4: s = 7, Phi^-1(9/16); n = 50, m = 12: s = 14,
        // Phi^-1(24/38); n = 50, m = 10: s = 16, Phi^-1(24/40).
        QTest::newRow("10, 3") << 10 << 3 << 0.18001236979270493;
        QTest::newRow("20, 4") << 20 << 4 << 0.15731068461017067;
        QTest::newRow("50, 12") << 50 << 12 << 0.336038140371823;
        QTest::newRow("50, 10") << 50 << 10 << 0.2533471031357998;
        // n = 10, m = 2: s = 4, Phi^-1(4/8) = 0: the attackers gain nothing.
        QTest::newRow("10, 2") << 10 << 2 << 0.0;
        // n = 7, m = 4: the attackers are a majority (s = 0); at least one supporter: Phi^-1(2/3).
        QTest::newRow("7, 4 (majority)") << 7 << 4 << 0.43072729929545733;
        QTest::newRow("4, 4 (nobody honest)") << 4 << 4 << 0.0;
    }
    void alieZMaxFollowsThePaper() {
        QFETCH(int, n);
        QFETCH(int, m);
        QFETCH(double, z);
        QVERIFY2(std::abs(alieZMax(n, m) - z) < 1e-12, qPrintable(QString::number(alieZMax(n, m), 'g', 17)));
    }

    // Three attackers' honest updates [1, 0, 2], [3, 0, 4], [5, 0, 9]: mean [3, 0, 5], sample standard
    // deviation [2, 0, sqrt(13)]; every attacker sends mean - z std.
    void alieSendsMeanMinusZStd() {
        const auto run = [](const Behaviour &b, int answered) {
            std::vector<std::vector<float>> u{{1, 0, 2}, {3, 0, 4}, {5, 0, 9}};
            std::vector<std::span<float>> spans(u.begin(), u.end());
            b.coordinate(spans, {1, answered});
            return u;
        };
        const auto fixed = behaviour("alie", {{QStringLiteral("z"), 1.5}});
        QVERIFY(fixed->coordinated());
        for (const auto &sent : run(*fixed, 10))
            QCOMPARE(test::difference(sent, {3 - 1.5 * 2, 0, 5 - 1.5 * std::sqrt(13.0)}, 1e-6), QString());
        // z = 0: z_max of 10 clients, 3 attackers (0.18001...).
        const double z = 0.18001236979270493;
        for (const auto &sent : run(*behaviour("alie"), 10))
            QCOMPARE(test::difference(sent, {3 - z * 2, 0, 5 - z * std::sqrt(13.0)}, 1e-6), QString());
        // A single attacker has no spread of its own: it sends its honest update.
        std::vector<float> alone{1.5f, -2.0f};
        std::vector<std::span<float>> one{alone};
        alieCraft(one, 3.0);
        QCOMPARE(alone, (std::vector<float>{1.5f, -2.0f}));
    }

    void labelMappings() {
        QCOMPARE(*parseLabelMapping(QStringLiteral("reverse"), 10),
                 (std::vector<int>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
        QCOMPARE(*parseLabelMapping(QStringLiteral(" 0:9, 1 : 8,4:4"), 10),
                 (std::vector<int>{9, 8, 2, 3, 4, 5, 6, 7, 8, 9}));
        QString error;
        QVERIFY(!parseLabelMapping(QStringLiteral("0:3"), 3, &error));
        QCOMPARE(error, QStringLiteral("class 3 is not one of the dataset's classes 0..2"));
        QVERIFY(!parseLabelMapping(QStringLiteral("0:1,"), 3, &error));
        QCOMPARE(error, QStringLiteral("'' is not a pair from:to of two class numbers"));
        QVERIFY(!parseLabelMapping(QStringLiteral("2:0,2:1"), 3, &error));
        QCOMPARE(error, QStringLiteral("class 2 is mapped twice"));
        QVERIFY(!parseLabelMapping(QString(), 3, &error));
    }

    // Label flipping changes labels only, each by the mapping.
    void labelFlipPoisonsTheLabels() {
        Images data(20, 2);
        data.pixels[5] = 0.75f;
        const auto flip =
            behaviour("label-flip", {{QStringLiteral("mapping"), QStringLiteral("0:9,1:8,9:0")}});
        QVERIFY(flip->poisonsData());
        flip->poison(data.samples, 7);
        for (int i = 0; i < 20; ++i) {
            const int was = i % 10;
            const int expected = was == 0 ? 9 : was == 1 ? 8 : was == 9 ? 0 : was;
            QCOMPARE(data.labels[std::size_t(i)], std::int64_t(expected));
        }
        QCOMPARE(data.pixels[5], 0.75f);
    }

    void poisonCountRounding() {
        QCOMPARE(backdoorPoisonCount(5, 0.5), std::int64_t(3));   // 2.5 -> 3
        QCOMPARE(backdoorPoisonCount(10, 0.25), std::int64_t(3)); // 2.5 -> 3
        QCOMPARE(backdoorPoisonCount(10, 0.24), std::int64_t(2)); // 2.4 -> 2
        QCOMPARE(backdoorPoisonCount(30, 0.1), std::int64_t(3));
        QCOMPARE(backdoorPoisonCount(7, 0.0), std::int64_t(0));
        QCOMPARE(backdoorPoisonCount(7, 1.0), std::int64_t(7));
    }

    // Side 2 at each corner of a 1 x 3 x 3 image: the pixels (row, column) worked out by hand.
    void triggerSitsInItsCorner_data() {
        QTest::addColumn<QString>("corner");
        QTest::addColumn<QList<int>>("pixels"); // row * 3 + column
        QTest::newRow("top-left") << QStringLiteral("top-left") << QList<int>{0, 1, 3, 4};
        QTest::newRow("top-right") << QStringLiteral("top-right") << QList<int>{1, 2, 4, 5};
        QTest::newRow("bottom-left") << QStringLiteral("bottom-left") << QList<int>{3, 4, 6, 7};
        QTest::newRow("bottom-right") << QStringLiteral("bottom-right") << QList<int>{4, 5, 7, 8};
    }
    void triggerSitsInItsCorner() {
        QFETCH(QString, corner);
        QFETCH(QList<int>, pixels);
        BackdoorTrigger t;
        t.size = 2;
        t.value = 1.0;
        t.corner = corner;
        std::vector<float> image(18, 0.0f); // two channels
        t.stamp(image, 2, 3, 3, 0.25f, 0.5f);
        for (int c = 0; c < 2; ++c)
            for (int p = 0; p < 9; ++p)
                QCOMPARE(image[std::size_t(c * 9 + p)], pixels.contains(p) ? 1.5f : 0.0f); // (1 - 0.25) / 0.5
    }

    // poison_fraction 0.5 of 9 samples: exactly 5 (4.5 rounded up) carry the 2 x 2 trigger (intensity 1
    // stored as (1 - 0.2860) / 0.3530) and the target label; the other 4 are untouched.
    void backdoorPoisonsItsShareOfSamples() {
        const auto plant = [](std::uint64_t key) {
            Images data(9, 4);
            data.samples.pixelOffset = 0.2860f;
            data.samples.pixelScale = 0.3530f;
            const auto bd = behaviour("backdoor", {{QStringLiteral("target_class"), 7},
                                                   {QStringLiteral("trigger_size"), 2},
                                                   {QStringLiteral("poison_fraction"), 0.5}});
            bd->poison(data.samples, key);
            return data;
        };
        const float stored = float((1.0 - double(0.2860f)) / double(0.3530f));
        const Images data = plant(11);
        std::vector<int> poisoned;
        for (int i = 0; i < 9; ++i) {
            const std::span<const float> row(data.pixels.data() + i * 16, 16);
            int triggerPixels = 0, otherPixels = 0;
            for (int p = 0; p < 16; ++p) {
                const bool inCorner = p / 4 >= 2 && p % 4 >= 2;
                if (inCorner && row[std::size_t(p)] == stored) ++triggerPixels;
                if (!inCorner && row[std::size_t(p)] != 0.0f) ++otherPixels;
            }
            QCOMPARE(otherPixels, 0);
            QVERIFY(triggerPixels == 0 || triggerPixels == 4);
            if (triggerPixels == 4) {
                poisoned.push_back(i);
                QCOMPARE(data.labels[std::size_t(i)], std::int64_t(7));
            } else {
                QCOMPARE(data.labels[std::size_t(i)], std::int64_t(i % 10));
            }
        }
        QCOMPARE(int(poisoned.size()), 5);
        // Keyed: the same task poisons the same samples.
        QCOMPARE(plant(11).labels, data.labels);
        const auto bd = behaviour("backdoor");
        QCOMPARE(bd->backdoor()->targetClass, 0);
        QCOMPARE(bd->backdoor()->size, 3);
    }

    // boost 1 sends the update as trained; boost b multiplies it by b (model replacement).
    void backdoorBoost() {
        QVERIFY(behaviour("backdoor")->updateStages().isEmpty());
        const auto boosted = behaviour("backdoor", {{QStringLiteral("boost"), 10.0}});
        QCOMPARE(attacked(*boosted, {0.5f, -0.25f}), (std::vector<float>{5.0f, -2.5f}));
    }

    void honestAndDropoutHaveNoHooks() {
        for (const char *name : {"honest", "dropout"}) {
            const auto b = behaviour(name);
            QVERIFY(b->updateStages().isEmpty());
            QVERIFY(!b->poisonsData() && !b->coordinated() && !b->backdoor());
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeBehaviour({QStringLiteral("evil"), {}}));
    }

    // Every behaviour explains itself to a non-expert and every parameter has help.
    void everyBehaviourIsDocumented() {
        const Registry &r = Registry::global();
        const QStringList names = r.componentNames(QStringLiteral("behaviour"));
        for (const char *name :
             {"honest", "dropout", "label-flip", "sign-flip", "scale", "gaussian-noise", "alie", "backdoor"})
            QVERIFY2(names.contains(QLatin1String(name)), name);
        for (const QString &name : names) {
            const ComponentSchema *c = r.component(QStringLiteral("behaviour"), name);
            QVERIFY2(!c->help.isEmpty() && !c->explanation.isEmpty(), qPrintable(name));
            for (const ParamSchema &p : c->params)
                QVERIFY2(!p.help.isEmpty(), qPrintable(name + QLatin1Char('.') + p.key));
        }
    }
};

QTEST_GUILESS_MAIN(TestAdversary)
#include "test_adversary.moc"
