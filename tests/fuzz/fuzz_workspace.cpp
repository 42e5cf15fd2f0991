// libFuzzer: a workspace file, read and validated the way `fedwb-cli validate` does before it touches data:
// FederationSpec::readFile (on a real file, so the file checks run too) then FederationSpec::parse against
// the built-in registries. No dataset is loaded.
//
// Beyond "no crash, no leak, no UB" it checks what the API promises: a refused file has a message, a refused
// workspace names at least one error, and a validated spec is self-consistent (client groups tile the
// population, clients per round is in [1, clients.count]) and validates again unchanged.
#include "fuzz_support.h"

#include "spec/FederationSpec.h"
#include "spec/Registry.h"

#include <QJsonDocument>

using namespace fedwb;

namespace {
QString workspacePath;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::initQt();
    registerBuiltins();
    workspacePath = fuzz::scratchDir() + QStringLiteral("/input.fedwb");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    fuzz::writeInput(workspacePath, data, size);
    QString error;
    QList<SpecIssue> readWarnings;
    const std::optional<QJsonObject> raw = FederationSpec::readFile(workspacePath, &error, &readWarnings);
    if (!raw) {
        FUZZ_CHECK(!error.isEmpty(), QStringLiteral("readFile failed without a message"));
        return 0;
    }
    for (const SpecIssue &w : readWarnings)
        FUZZ_CHECK(!w.message.isEmpty(), QStringLiteral("an empty readFile warning at ") + w.path);
    const FederationSpec::Parsed parsed = FederationSpec::parse(*raw);
    for (const SpecIssue &w : parsed.warnings)
        (void)w.text();
    if (!parsed.ok()) {
        FUZZ_CHECK(!parsed.errors.isEmpty(), QStringLiteral("parse refused the workspace without an error"));
        FUZZ_CHECK(!parsed.errorText().isEmpty(), QString());
        return 0;
    }
    const FederationSpec &spec = *parsed.spec;
    const int count = spec.clientCount();
    FUZZ_CHECK(count >= 1, QStringLiteral("clients.count %1").arg(count));
    const int perRound = spec.clientsPerRound();
    FUZZ_CHECK(perRound >= 1 && perRound <= count,
               QStringLiteral("clients per round %1 of %2").arg(perRound).arg(count));
    const QList<ClientGroup> groups = spec.groups();
    FUZZ_CHECK(!groups.isEmpty(), QStringLiteral("no client group"));
    int next = 0;
    for (const ClientGroup &g : groups) {
        FUZZ_CHECK(g.firstClient == next && g.count >= 0,
                   QStringLiteral("group %1 starts at %2 with %3 clients, expected start %4")
                       .arg(g.name)
                       .arg(g.firstClient)
                       .arg(g.count)
                       .arg(next));
        next += g.count;
    }
    FUZZ_CHECK(next == count, QStringLiteral("groups hold %1 of %2 clients").arg(next).arg(count));
    const int last = spec.groupOf(count - 1);
    FUZZ_CHECK(last >= 0 && last < groups.size(), QStringLiteral("groupOf(last) = %1").arg(last));
    (void)spec.seed();
    (void)spec.dataSeed();
    (void)spec.partitionSeed();
    (void)spec.rounds();

    // The validated, defaulted spec is itself a valid workspace, and validating it changes nothing.
    const FederationSpec::Parsed again = FederationSpec::parse(spec.json());
    FUZZ_CHECK(again.ok(), again.errorText());
    FUZZ_CHECK(again.spec->json() == spec.json(),
               QString::fromUtf8(QJsonDocument(spec.json()).toJson(QJsonDocument::Compact)) +
                   QStringLiteral(" became ") +
                   QString::fromUtf8(QJsonDocument(again.spec->json()).toJson(QJsonDocument::Compact)));
    return 0;
}
