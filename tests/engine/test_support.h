// Small helpers shared by the engine test suites.
#pragma once

#include "spec/FederationSpec.h"

#include <QJsonArray>

#include <QStringList>
#include <QtGlobal>

#include <cmath>
#include <vector>

namespace fedwb::test {

// "[a, b, c]" with 9 significant digits.
inline QString describe(const std::vector<float> &v) {
    QStringList parts;
    for (float x : v)
        parts.append(QString::number(double(x), 'g', 9));
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

// Element-wise |actual - expected| <= tol; a description of the first difference, or an empty string.
inline QString difference(const std::vector<float> &actual, const std::vector<double> &expected,
                          double tol = 1e-6) {
    if (actual.size() != expected.size())
        return QStringLiteral("size %1, expected %2").arg(actual.size()).arg(expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
        if (!(std::abs(double(actual[i]) - expected[i]) <= tol))
            return QStringLiteral("element %1 is %2, expected %3 (all: %4)")
                .arg(i)
                .arg(double(actual[i]), 0, 'g', 9)
                .arg(expected[i], 0, 'g', 9)
                .arg(describe(actual));
    return {};
}

// The `clients` section of 6 clients, all selected every round: clients 0-3 are the group "steady", 4-5 the
// group "flaky", whose clients drop out of a round with `probability` (the dropout behaviour).
inline QJsonObject sixClientsTwoFlaky(double probability) {
    return QJsonObject{
        {QStringLiteral("count"), 6},
        {QStringLiteral("per_round"), 6},
        {QStringLiteral("groups"),
         QJsonArray{
             QJsonObject{{QStringLiteral("name"), QStringLiteral("steady")}, {QStringLiteral("count"), 4}},
             QJsonObject{{QStringLiteral("name"), QStringLiteral("flaky")},
                         {QStringLiteral("count"), 2},
                         {QStringLiteral("behaviour"),
                          QJsonObject{{QStringLiteral("name"), QStringLiteral("dropout")},
                                      {QStringLiteral("probability"), probability}}}}}}};
}

// `raw` with "section.key=value" overrides applied, validated; aborts the test on an invalid workspace.
inline FederationSpec specWith(QJsonObject raw, const QStringList &sets) {
    for (const QString &s : sets) {
        QString error;
        if (!FederationSpec::applyOverride(raw, s, &error)) qFatal("%s", qPrintable(error));
    }
    auto parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) qFatal("%s", qPrintable(parsed.errorText()));
    return *parsed.spec;
}

} // namespace fedwb::test
