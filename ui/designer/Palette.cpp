#include "designer/Palette.h"

#include "designer/ComponentKinds.h"
#include "designer/FederationModel.h"
#include "designer/FederationScene.h"
#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QApplication>
#include <QEvent>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QPainterPath>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace fedwb {

const QString Palette::kMimeType = QStringLiteral("application/x-fedwb-palette-entry");

namespace {

constexpr int kEntryRole = Qt::UserRole + 1;

// The tree of entries; a dragged entry carries its payload.
class PaletteTree : public QTreeWidget {
public:
    explicit PaletteTree(Palette *palette, QWidget *parent)
        : QTreeWidget(parent)
        , m_palette(palette) {}

protected:
    QStringList mimeTypes() const override { return {Palette::kMimeType}; }
    QMimeData *mimeData(const QList<QTreeWidgetItem *> &items) const override {
        if (items.isEmpty()) return nullptr;
        const QString id = items.first()->data(0, kEntryRole).toString();
        for (const Palette::Entry &e : m_palette->entries())
            if (e.id == id && e.enabled) return Palette::mimeData(e);
        return nullptr;
    }

private:
    Palette *m_palette;
};

QIcon categoryIcon(Palette::Category category, const QPalette &palette, int badge = -1) {
    const qreal dpr = qApp ? qApp->devicePixelRatio() : 1.0;
    const int size = 16;
    QPixmap pm(QSize(size, size) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r(1, 1, size - 2, size - 2);
    const QColor ink = palette.color(QPalette::Text);
    switch (category) {
    case Palette::Category::Groups:
        paintBehaviourBadge(&p, r.adjusted(1, 1, -1, -1), BehaviourKind(badge < 0 ? 0 : badge), palette);
        break;
    case Palette::Category::Strategies: {
        // Three updates joining into one.
        QPen pen(ink, 1.4, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
        p.setPen(pen);
        QPainterPath path;
        for (qreal y : {3.0, 8.0, 13.0}) {
            path.moveTo(2, y);
            path.cubicTo(6, y, 7, 8, 10, 8);
        }
        path.moveTo(10, 8);
        path.lineTo(14, 8);
        p.drawPath(path);
        break;
    }
    case Palette::Category::Stages: {
        // Stacked layers: a stage of the server's pipeline.
        p.setPen(QPen(ink, 1.2));
        QColor fill = palette.color(QPalette::Highlight);
        fill.setAlphaF(0.35f);
        p.setBrush(fill);
        p.drawRoundedRect(QRectF(2, 2.5, 12, 4.5), 1.5, 1.5);
        p.drawRoundedRect(QRectF(2, 9, 12, 4.5), 1.5, 1.5);
        break;
    }
    }
    return QIcon(pm);
}

QString categoryTitle(Palette::Category category) {
    switch (category) {
    case Palette::Category::Groups:
        return Palette::tr("Client groups");
    case Palette::Category::Strategies:
        return Palette::tr("Strategies");
    case Palette::Category::Stages:
        return Palette::tr("Server stages");
    }
    return {};
}

} // namespace

Palette::Palette(FederationModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_filter(new QLineEdit(this))
    , m_tree(new PaletteTree(this, this)) {
    registerBuiltins();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    m_filter->setPlaceholderText(tr("Filter"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(tr("Show only the entries whose name contains this text"));
    layout->addWidget(m_filter);
    m_tree->setHeaderHidden(true);
    m_tree->setRootIsDecorated(true);
    m_tree->setDragEnabled(true);
    m_tree->setDragDropMode(QAbstractItemView::DragOnly);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setUniformRowHeights(true);
    m_tree->setToolTip(QString());
    m_tree->setAccessibleName(tr("Palette"));
    layout->addWidget(m_tree);
    setToolTip(tr("Double-click an entry, or drag it onto the canvas, to add it to the federation."));

    connect(m_filter, &QLineEdit::textChanged, this, &Palette::applyFilter);
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        const QString id = item->data(0, kEntryRole).toString();
        if (!id.isEmpty()) activate(id);
    });
    connect(m_model, &FederationModel::changed, this, &Palette::refreshState);
    rebuild();
}

Palette::~Palette() = default;

QList<Palette::Entry> Palette::registryEntries() {
    registerBuiltins();
    const Registry &reg = Registry::global();
    QList<Entry> out;
    const QString honest = defaultBehaviour();
    for (const QString &name : reg.componentNames(QStringLiteral("behaviour"))) {
        const ComponentSchema *c = reg.component(QStringLiteral("behaviour"), name);
        Entry e;
        e.id = QStringLiteral("group:") + name;
        e.category = Category::Groups;
        e.title = c && !c->title.isEmpty() ? c->title : name;
        e.help = c ? c->help : QString();
        QJsonObject group{{QStringLiteral("name"), groupNameFrom(name)}};
        if (name != honest)
            group.insert(QStringLiteral("behaviour"), QJsonObject{{QStringLiteral("name"), name}});
        e.payload =
            QJsonObject{{QStringLiteral("kind"), QStringLiteral("group")}, {QStringLiteral("group"), group}};
        out.append(e);
    }
    for (const QString &name : reg.componentNames(QStringLiteral("strategy"))) {
        const ComponentSchema *c = reg.component(QStringLiteral("strategy"), name);
        Entry e;
        e.id = QStringLiteral("strategy:") + name;
        e.category = Category::Strategies;
        e.title = c && !c->title.isEmpty() ? c->title : name;
        e.help = c ? c->help : QString();
        e.payload =
            QJsonObject{{QStringLiteral("kind"), QStringLiteral("strategy")}, {QStringLiteral("name"), name}};
        out.append(e);
    }
    for (const QString &key : stageSections()) {
        const SectionSchema *s = reg.section(key);
        const StageSwitch sw = stageSwitch(key);
        const QString title = sectionTitle(key);
        if (!sw.valid()) {
            Entry e;
            e.id = QStringLiteral("stage:") + key;
            e.category = Category::Stages;
            e.title = title;
            e.help =
                tr("%1 has no switch the designer knows (a Boolean \"enabled\", or a choice \"mode\" with "
                   "\"none\" or \"off\"): set it in the inspector.")
                    .arg(title);
            e.enabled = false;
            out.append(e);
            continue;
        }
        const ParamSchema *p = s ? s->param(sw.key) : nullptr;
        for (const QJsonValue &on : sw.onValues) {
            Entry e;
            e.category = Category::Stages;
            if (sw.onValues.size() == 1 && on.isBool()) {
                e.id = QStringLiteral("stage:") + key;
                e.title = title;
            } else {
                const QString word = on.toString();
                e.id = QStringLiteral("stage:%1=%2").arg(key, word);
                const ComponentSchema *c =
                    sw.key == QLatin1String("name") && s ? reg.component(s->category, word) : nullptr;
                e.title = tr("%1: %2").arg(title, c && !c->title.isEmpty() ? c->title : word);
            }
            e.help = s ? s->help : QString();
            if (p && !p->help.isEmpty()) e.help += QLatin1Char('\n') + p->help;
            e.payload = QJsonObject{{QStringLiteral("kind"), QStringLiteral("stage")},
                                    {QStringLiteral("section"), key},
                                    {QStringLiteral("value"), on}};
            out.append(e);
        }
    }
    return out;
}

QList<Palette::Entry> Palette::entries(Category category) const {
    QList<Entry> out;
    for (const Entry &e : m_entries)
        if (e.category == category) out.append(e);
    return out;
}

bool Palette::isInUse(const QString &entryId) const {
    for (const Entry &e : m_entries) {
        if (e.id != entryId) continue;
        const QString kind = e.payload.value(QStringLiteral("kind")).toString();
        if (kind == QLatin1String("strategy"))
            return m_model->effectiveValue(QStringLiteral("strategy.name")).toString() ==
                   e.payload.value(QStringLiteral("name")).toString();
        if (kind == QLatin1String("stage")) {
            const StageSwitch sw = stageSwitch(e.payload.value(QStringLiteral("section")).toString());
            return sw.valid() &&
                   m_model->effectiveValue(sw.path()) == e.payload.value(QStringLiteral("value"));
        }
        return false;
    }
    return false;
}

QString Palette::activate(const QString &entryId) {
    for (const Entry &e : std::as_const(m_entries)) {
        if (e.id != entryId || !e.enabled) continue;
        const QString node = apply(m_model, e.payload);
        if (!node.isEmpty()) Q_EMIT entryApplied(node);
        return node;
    }
    return {};
}

QString Palette::apply(FederationModel *model, const QJsonObject &payload) {
    const QString kind = payload.value(QStringLiteral("kind")).toString();
    model->closeMergeWindow();
    QString node;
    if (kind == QLatin1String("group")) {
        const int index = model->addGroup(payload.value(QStringLiteral("group")).toObject());
        const QList<FederationModel::Group> groups = model->groups();
        if (index >= 0 && index < groups.size()) node = FederationScene::groupNodeId(groups[index].name);
    } else if (kind == QLatin1String("strategy")) {
        const QString name = payload.value(QStringLiteral("name")).toString();
        if (Registry::global().component(QStringLiteral("strategy"), name)) {
            model->setComponent(QStringLiteral("strategy"), name);
            node = QStringLiteral("strategy");
        }
    } else if (kind == QLatin1String("stage")) {
        const QString section = payload.value(QStringLiteral("section")).toString();
        const StageSwitch sw = stageSwitch(section);
        const QJsonValue value = payload.value(QStringLiteral("value"));
        if (sw.valid() && sw.onValues.contains(value)) {
            if (sw.key == QLatin1String("name"))
                model->setComponent(section, value.toString());
            else
                model->setValue(sw.path(), value, tr("Switch %1 on").arg(sectionTitle(section)));
            node = QStringLiteral("stage:") + section;
        }
    }
    model->closeMergeWindow();
    return node;
}

QMimeData *Palette::mimeData(const Entry &entry) {
    auto *data = new QMimeData;
    data->setData(kMimeType, QJsonDocument(entry.payload).toJson(QJsonDocument::Compact));
    data->setText(entry.title);
    return data;
}

std::optional<QJsonObject> Palette::payloadFrom(const QMimeData *data) {
    if (!data || !data->hasFormat(kMimeType)) return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(data->data(kMimeType));
    if (!doc.isObject()) return std::nullopt;
    return doc.object();
}

void Palette::rebuild() {
    m_entries = registryEntries();
    m_tree->clear();
    for (Category category : {Category::Groups, Category::Strategies, Category::Stages}) {
        auto *top = new QTreeWidgetItem(m_tree, {categoryTitle(category)});
        top->setFlags(Qt::ItemIsEnabled);
        QFont f = top->font(0);
        f.setBold(true);
        top->setFont(0, f);
        for (const Entry &e : std::as_const(m_entries)) {
            if (e.category != category) continue;
            auto *item = new QTreeWidgetItem(top, {e.title});
            item->setData(0, kEntryRole, e.id);
            item->setToolTip(0, e.help);
            Qt::ItemFlags flags = Qt::ItemIsSelectable;
            if (e.enabled) flags |= Qt::ItemIsEnabled | Qt::ItemIsDragEnabled;
            item->setFlags(flags);
            const int badge = category == Category::Groups
                                  ? int(behaviourKind(e.payload.value(QStringLiteral("group"))
                                                          .toObject()
                                                          .value(QStringLiteral("behaviour"))
                                                          .toObject()
                                                          .value(QStringLiteral("name"))
                                                          .toString()))
                                  : -1;
            item->setIcon(0, categoryIcon(category, palette(), badge));
        }
        top->setExpanded(true);
    }
    refreshState();
    applyFilter(m_filter->text());
}

QTreeWidgetItem *Palette::itemFor(const QString &entryId) const {
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *top = m_tree->topLevelItem(i);
        for (int k = 0; k < top->childCount(); ++k)
            if (top->child(k)->data(0, kEntryRole).toString() == entryId) return top->child(k);
    }
    return nullptr;
}

void Palette::refreshState() {
    for (const Entry &e : std::as_const(m_entries)) {
        QTreeWidgetItem *item = itemFor(e.id);
        if (!item) continue;
        const bool used = isInUse(e.id);
        QFont f = m_tree->font();
        f.setBold(used);
        item->setFont(0, f);
        item->setToolTip(0, used ? tr("In use.\n%1").arg(e.help) : e.help);
    }
}

void Palette::applyFilter(const QString &text) {
    const QString needle = text.trimmed();
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *top = m_tree->topLevelItem(i);
        int shown = 0;
        for (int k = 0; k < top->childCount(); ++k) {
            QTreeWidgetItem *item = top->child(k);
            const bool match = needle.isEmpty() || item->text(0).contains(needle, Qt::CaseInsensitive) ||
                               item->data(0, kEntryRole).toString().contains(needle, Qt::CaseInsensitive);
            item->setHidden(!match);
            shown += match;
        }
        top->setHidden(shown == 0);
    }
}

void Palette::changeEvent(QEvent *event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) rebuild();
}

} // namespace fedwb
