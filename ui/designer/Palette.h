// The designer's palette: what can be added to the federation, generated from the registry. A client group
// per registered behaviour (honest, dropping out, each attack), every strategy, and every stage kind (each
// "on" value of a stage section's switch: privacy central and local, secure aggregation ...). Double-click
// or Enter applies an entry to the model; an entry can also be dragged onto the canvas. Nothing names a
// component: new registrations appear by themselves; a stage whose switch the generic rule cannot find is
// listed disabled, with the reason as its tooltip.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QWidget>

#include <optional>

class QLineEdit;
class QMimeData;
class QTreeWidget;
class QTreeWidgetItem;

namespace fedwb {

class FederationModel;

class Palette : public QWidget {
    Q_OBJECT

public:
    // The drag format of an entry: its payload as compact JSON.
    static const QString kMimeType;

    enum class Category { Groups, Strategies, Stages };
    struct Entry {
        QString id; // "group:dropout", "strategy:krum", "stage:privacy=central", "stage:secure_aggregation"
        Category category = Category::Groups;
        QString title;
        QString help;
        // {"kind": "group", "group": {...}} | {"kind": "strategy", "name": N} |
        // {"kind": "stage", "section": KEY, "value": V}
        QJsonObject payload;
        bool enabled = true;
    };

    explicit Palette(FederationModel *model, QWidget *parent = nullptr);
    ~Palette() override;

    // Every entry, from the registry as it is now.
    static QList<Entry> registryEntries();
    QList<Entry> entries() const { return m_entries; }
    QList<Entry> entries(Category category) const;
    // Whether the entry is what the workspace uses now (the selected strategy, a stage switched to it).
    bool isInUse(const QString &entryId) const;

    // Applies entry `entryId` to the model (one undo step). Returns the id of the canvas node it added or
    // changed ("group:dropout-2", "strategy", "stage:privacy"), empty when it did nothing.
    QString activate(const QString &entryId);
    // The same for a payload (a drop on the canvas).
    static QString apply(FederationModel *model, const QJsonObject &payload);
    static QMimeData *mimeData(const Entry &entry);
    static std::optional<QJsonObject> payloadFrom(const QMimeData *data);

    QTreeWidget *tree() const { return m_tree; }

Q_SIGNALS:
    void entryApplied(const QString &nodeId); // after activate(): the window may select the node

protected:
    void changeEvent(QEvent *event) override;

private:
    void rebuild();
    void refreshState();
    void applyFilter(const QString &text);
    QTreeWidgetItem *itemFor(const QString &entryId) const;

    FederationModel *m_model;
    QLineEdit *m_filter;
    QTreeWidget *m_tree;
    QList<Entry> m_entries;
};

} // namespace fedwb
