// A read-only tree of a workspace's settings: every section and key with its value, defaults in grey
// italics, help and allowed range as tooltips, errors marked on the key they name. Shows a stored run's
// own settings (the Run tab) and an unreadable or invalid workspace's content.
#pragma once

#include "spec/Schema.h"

#include <QJsonObject>
#include <QList>
#include <QTreeWidget>

namespace fedwb {

class SpecTree : public QTreeWidget {
    Q_OBJECT

public:
    explicit SpecTree(QWidget *parent = nullptr);

    // `values`: what to show (a validated spec's json() has every default filled in); `raw`: what the file
    // itself says (keys it does not set are drawn as defaults); `errors` are marked on their keys.
    void setSpec(const QJsonObject &values, const QJsonObject &raw, const QList<SpecIssue> &errors = {});
    // Whether the context menu offers "Vary KEY…" on a setting (varyRequested is emitted).
    void setVaryEnabled(bool enabled) { m_varyEnabled = enabled; }

Q_SIGNALS:
    void varyRequested(const QString &path);

private:
    bool m_varyEnabled = false;
};

} // namespace fedwb
