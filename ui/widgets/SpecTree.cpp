#include "widgets/SpecTree.h"

#include "spec/Registry.h"

#include <QHash>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMenu>
#include <QStyle>

#include <algorithm>
#include <cmath>
#include <functional>

namespace fedwb {

namespace {

const QColor kErrorColor(0xb3, 0x1b, 0x1b);
const QColor kDefaultColor(0x80, 0x80, 0x80);

QString jsonText(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (d == std::floor(d) && std::abs(d) < 1e15) return QString::number(qint64(d));
        return QString::number(d, 'g', 8);
    }
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

// The schema of `section.key`: the section's own parameter, else the selected component's parameter.
const ParamSchema *paramSchema(const QString &section, const QString &key, const QJsonObject &sectionValues) {
    const SectionSchema *s = Registry::global().section(section);
    if (!s) return nullptr;
    if (const ParamSchema *p = s->param(key)) return p;
    if (s->category.isEmpty()) return nullptr;
    const ComponentSchema *c =
        Registry::global().component(s->category, sectionValues.value(QStringLiteral("name")).toString());
    return c ? c->param(key) : nullptr;
}

const ComponentSchema *componentSchema(const QString &section, const QJsonObject &sectionValues) {
    const SectionSchema *s = Registry::global().section(section);
    if (!s || s->category.isEmpty()) return nullptr;
    return Registry::global().component(s->category, sectionValues.value(QStringLiteral("name")).toString());
}

// Keys of `object` in schema order (section params, then component params), then the rest alphabetically.
QStringList orderedKeys(const QString &section, const QJsonObject &object) {
    QStringList order;
    if (const SectionSchema *s = Registry::global().section(section)) {
        for (const ParamSchema &p : s->params)
            order.append(p.key);
        if (const ComponentSchema *c = componentSchema(section, object))
            for (const ParamSchema &p : c->params)
                order.append(p.key);
    }
    QStringList keys;
    for (const QString &k : std::as_const(order))
        if (object.contains(k) && !keys.contains(k)) keys.append(k);
    for (auto it = object.begin(); it != object.end(); ++it)
        if (!keys.contains(it.key())) keys.append(it.key());
    return keys;
}

} // namespace

SpecTree::SpecTree(QWidget *parent)
    : QTreeWidget(parent) {
    setColumnCount(3);
    setHeaderLabels({tr("Setting"), tr("Value"), tr("Description")});
    setAlternatingRowColors(true);
    setUniformRowHeights(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint &at) {
        const QTreeWidgetItem *item = itemAt(at);
        const QString path = item ? item->data(0, Qt::UserRole).toString() : QString();
        if (!m_varyEnabled || path.count(QLatin1Char('.')) != 1 || item->childCount() > 0) return;
        QMenu menu(this);
        QAction *vary = menu.addAction(tr("Vary %1…").arg(path));
        vary->setStatusTip(tr("Run a sweep over values of this setting and compare the runs"));
        if (menu.exec(viewport()->mapToGlobal(at)) == vary) Q_EMIT varyRequested(path);
    });
    header()->setStretchLastSection(true);
    header()->setSectionResizeMode(QHeaderView::Interactive);
}

void SpecTree::setSpec(const QJsonObject &values, const QJsonObject &raw, const QList<SpecIssue> &errors) {
    clear();
    QHash<QString, QTreeWidgetItem *> items; // key path -> item

    QFont sectionFont = font();
    sectionFont.setBold(true);
    QFont defaultFont = font();
    defaultFont.setItalic(true);

    // Top-level values (format, name, description) in a group of their own, then the sections in registry
    // order, then anything else the file holds.
    QStringList scalars;
    for (const QString &k : {QStringLiteral("format"), QStringLiteral("name"), QStringLiteral("description")})
        if (values.contains(k) && !values.value(k).isObject()) scalars.append(k);
    for (auto it = values.begin(); it != values.end(); ++it)
        if (!it.value().isObject() && !scalars.contains(it.key())) scalars.append(it.key());
    QStringList keys;
    for (const SectionSchema &s : Registry::global().sections())
        if (values.contains(s.key) && !scalars.contains(s.key)) keys.append(s.key);
    for (auto it = values.begin(); it != values.end(); ++it)
        if (!keys.contains(it.key()) && !scalars.contains(it.key())) keys.append(it.key());

    // Adds `key` (of `parentPath`'s object `obj`) under `parent`; recurses into objects.
    const std::function<void(QTreeWidgetItem *, const QString &, const QString &, const QJsonValue &,
                             const QJsonValue &)>
        addValue = [&](QTreeWidgetItem *parent, const QString &section, const QString &path,
                       const QJsonValue &value, const QJsonValue &rawValue) {
            const QString key = path.section(QLatin1Char('.'), -1);
            auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(this);
            item->setText(0, key);
            items.insert(path, item);
            item->setData(0, Qt::UserRole, path); // "section.key": what "Vary this parameter" varies
            if (value.isObject()) {
                const QJsonObject obj = value.toObject();
                const QJsonObject rawObj = rawValue.toObject();
                for (const QString &k : orderedKeys(section, obj))
                    addValue(item, section, path + QLatin1Char('.') + k, obj.value(k), rawObj.value(k));
                return;
            }
            const bool explicitValue = !rawValue.isUndefined();
            const ParamSchema *schema = nullptr;
            if (parent && path.count(QLatin1Char('.')) == 1)
                schema = paramSchema(section, key, values.value(section).toObject());
            QString text = jsonText(value);
            if (schema && schema->type == ParamType::GroupList && value.isArray() &&
                value.toArray().isEmpty()) {
                text = tr("[] (one group \"clients\" holding all)");
            } else if (schema && !schema->zeroText.isEmpty() && value.isDouble() && value.toDouble() == 0) {
                text = QStringLiteral("0 (%1)").arg(schema->zeroText);
            } else if (schema && !schema->unit.isEmpty()) {
                QString unit = schema->unit;
                if (text == QStringLiteral("1") && unit.endsWith(QLatin1Char('s'))) unit.chop(1); // "1 epoch"
                text += QLatin1Char(' ') + unit;
            }
            if (schema && !explicitValue && key == QLatin1String("seed") &&
                schema->defaultValue.toDouble() == -1)
                text += tr(" (= run.seed)"); // dataset.seed and partition.seed follow run.seed unless set
            item->setText(1, text);
            item->setToolTip(1, text);
            if (schema) {
                item->setText(2, schema->help);
                QString tip = QStringLiteral("<b>") + path.toHtmlEscaped() + QStringLiteral("</b>");
                if (!schema->help.isEmpty()) tip += QStringLiteral("<br>") + schema->help.toHtmlEscaped();
                tip += QStringLiteral("<br>") + tr("Allowed: %1").arg(schema->allowedText().toHtmlEscaped());
                tip += QStringLiteral("<br>") +
                       tr("Default: %1").arg(jsonText(schema->defaultValue).toHtmlEscaped());
                for (int c = 0; c < 3; ++c)
                    item->setToolTip(c, tip);
            }
            if (!explicitValue) {
                item->setFont(1, defaultFont);
                item->setForeground(1, kDefaultColor);
                item->setToolTip(1, item->toolTip(1) + QStringLiteral("<br><i>") + tr("default value") +
                                        QStringLiteral("</i>"));
            }
        };

    if (!scalars.isEmpty()) {
        auto *fileItem = new QTreeWidgetItem(this);
        fileItem->setText(0, tr("workspace"));
        fileItem->setFont(0, sectionFont);
        fileItem->setText(2, tr("The file itself: format version, name and description."));
        for (const QString &k : std::as_const(scalars))
            addValue(fileItem, QString(), k, values.value(k), raw.value(k));
    }
    for (const QString &sectionKey : std::as_const(keys)) {
        const QJsonValue v = values.value(sectionKey);
        if (!v.isObject()) continue; // scalars are grouped above
        const QJsonObject obj = v.toObject();
        const QJsonObject rawObj = raw.value(sectionKey).toObject();
        auto *sectionItem = new QTreeWidgetItem(this);
        sectionItem->setText(0, sectionKey);
        sectionItem->setFont(0, sectionFont);
        items.insert(sectionKey, sectionItem);
        const SectionSchema *schema = Registry::global().section(sectionKey);
        if (schema) sectionItem->setText(2, schema->help);
        if (obj.value(QStringLiteral("name")).isString()) { // the component this section selects
            sectionItem->setText(1, obj.value(QStringLiteral("name")).toString());
            sectionItem->setFont(1, sectionFont);
            items.insert(sectionKey + QStringLiteral(".name"), sectionItem);
            if (const ComponentSchema *c = componentSchema(sectionKey, obj)) {
                const QString about = c->title.isEmpty() ? c->help : c->title;
                if (!about.isEmpty()) sectionItem->setText(2, about);
                if (!c->help.isEmpty()) sectionItem->setToolTip(2, c->help);
            }
        }
        for (const QString &k : orderedKeys(sectionKey, obj)) {
            if (k == QStringLiteral("name") && obj.value(k).isString()) continue;
            addValue(sectionItem, sectionKey, sectionKey + QLatin1Char('.') + k, obj.value(k),
                     rawObj.value(k));
        }
    }

    // Errors: on the item they name, else on the closest existing parent, else as a top-level row.
    const QIcon errorIcon = style()->standardIcon(QStyle::SP_MessageBoxCritical);
    for (const SpecIssue &e : errors) {
        QString path = e.path;
        QTreeWidgetItem *item = nullptr;
        while (!path.isEmpty() && !(item = items.value(path)))
            path = path.section(QLatin1Char('.'), 0, -2);
        if (!item || path != e.path) {
            auto *row = item ? new QTreeWidgetItem(item) : new QTreeWidgetItem(this);
            row->setText(0, e.path.isEmpty() ? tr("(workspace)") : e.path.section(QLatin1Char('.'), -1));
            row->setText(1, tr("(missing)"));
            item = row;
        }
        item->setIcon(0, errorIcon);
        for (int c = 0; c < 3; ++c)
            item->setForeground(c, kErrorColor);
        item->setText(2, e.message);
        item->setToolTip(2, e.text());
        for (QTreeWidgetItem *p = item->parent(); p; p = p->parent())
            p->setForeground(0, kErrorColor);
    }

    expandAll();
    resizeColumnToContents(0);
    resizeColumnToContents(1);
    setColumnWidth(0, std::max(columnWidth(0) + 24, 200));
    setColumnWidth(1, std::clamp(columnWidth(1) + 24, 140, 360));
}

} // namespace fedwb
