#include "run/RunTypes.h"

namespace fedwb {

QString runStatusName(RunStatus status) {
    switch (status) {
    case RunStatus::Pending:
        return QStringLiteral("pending");
    case RunStatus::Running:
        return QStringLiteral("running");
    case RunStatus::Finished:
        return QStringLiteral("finished");
    case RunStatus::Stopped:
        return QStringLiteral("stopped");
    case RunStatus::Failed:
        return QStringLiteral("failed");
    case RunStatus::Interrupted:
        return QStringLiteral("interrupted");
    case RunStatus::Diverged:
        return QStringLiteral("diverged");
    case RunStatus::BudgetSpent:
        return QStringLiteral("budget-spent");
    }
    return {};
}

RunStatus runStatusFromName(const QString &name) {
    for (RunStatus s :
         {RunStatus::Pending, RunStatus::Running, RunStatus::Finished, RunStatus::Stopped, RunStatus::Failed,
          RunStatus::Interrupted, RunStatus::Diverged, RunStatus::BudgetSpent})
        if (runStatusName(s) == name) return s;
    return RunStatus::Failed;
}

QJsonObject RunEnvironment::toJson() const {
    return {{QStringLiteral("torch"), torchVersion},
            {QStringLiteral("blas"), blas},
            {QStringLiteral("cpu"), cpuModel},
            {QStringLiteral("cpu_capability"), cpuCapability},
            {QStringLiteral("threads"), threads}};
}

} // namespace fedwb
