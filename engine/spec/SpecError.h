// The one error type for "the workspace is wrong": `path` names the key to change ("dataset.path").
#pragma once

#include <QString>

#include <stdexcept>

namespace fedwb {

class SpecError : public std::runtime_error {
public:
    SpecError(QString path, const QString &message)
        : std::runtime_error(
              (path.isEmpty() ? message : QString(path + QStringLiteral(": ") + message)).toStdString())
        , m_path(std::move(path)) {}
    const QString &path() const { return m_path; }

private:
    QString m_path;
};

} // namespace fedwb
