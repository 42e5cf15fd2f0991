#include "designer/Inspector.h"

#include "designer/FederationModel.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QPainter>
#include <QPainterPath>
#include <QPlainTextEdit>
#include <QPointer>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <climits>
#include <cmath>
#include <optional>

namespace fedwb {

enum class Inspector::Kind {
    Spin,            // integer in an int range: QSpinBox
    Number,          // real, or an integer beyond int: QLineEdit checked by the schema
    Check,           // boolean: QCheckBox
    Choice,          // one of the schema's choices: QComboBox
    Component,       // the component a section (or a group's behaviour) selects: QComboBox
    Text,            // string: QLineEdit
    MultiLineText,   // the workspace description: QPlainTextEdit
    CountOrFraction, // a count >= 1 or a fraction in (0, 1): QLineEdit + mode QComboBox
    GroupSize,       // a group's count or fraction (two keys): QLineEdit + mode QComboBox
};

struct Inspector::Row {
    QString path; // the value path (GroupSize: "clients.groups[i].size")
    QString title;
    Kind kind = Kind::Text;
    ParamSchema schema; // a copy: the registry's lists may grow while the page is shown
    bool hasSchema = false;
    QString category;    // Component: the category its combo lists
    QString sectionPath; // Component: the section or "clients.groups[i].behaviour"
    int group = -1;      // GroupSize: the group index
    bool removable = true;
    QString inheritedFrom; // when not set, the value of this path is shown (group epochs: training.epochs)

    QLabel *label = nullptr;
    QWidget *editor = nullptr;
    QComboBox *mode = nullptr; // CountOrFraction, GroupSize
    QLabel *unit = nullptr;
    QToolButton *reset = nullptr;
    QToolButton *info = nullptr;
    QLabel *message = nullptr;
    QLabel *explanation = nullptr;

    // The model's value the editor shows (Undefined: not set) and the problem of text that is not a value.
    QJsonValue shown = QJsonValue(QJsonValue::Undefined);
    QString parseError;
};

namespace {

const QString kGroupsPath = QStringLiteral("clients.groups");

// "clients.groups[3]..." -> 3 and what follows; -1 otherwise.
int groupIndex(const QString &path, QString *rest = nullptr) {
    static const QRegularExpression re(QStringLiteral("^clients\\.groups\\[(\\d+)\\](?:\\.(.*))?$"));
    const QRegularExpressionMatch m = re.match(path);
    if (!m.hasMatch()) return -1;
    if (rest) *rest = m.captured(2);
    return m.captured(1).toInt();
}

QString groupPath(int i) {
    return QStringLiteral("clients.groups[%1]").arg(i);
}

int explicitGroupCount(const FederationModel &model) {
    return int(model.value(kGroupsPath).toArray().size());
}

QString formatNumber(double v, bool integer) {
    if (!std::isfinite(v)) return QString::number(v);
    if (integer || (std::abs(v) < 9007199254740992.0 && v == std::floor(v) && std::abs(v) >= 1))
        return QString::number(qint64(v));
    return QString::number(v, 'g', 12);
}

// A number as typed: C locale first ("0.5", "1e-5"), then the user's locale ("0,5"). Finite only.
std::optional<double> parseNumber(const QString &text) {
    const QString t = text.trimmed();
    if (t.isEmpty()) return std::nullopt;
    bool ok = false;
    double v = QLocale::c().toDouble(t, &ok);
    if (!ok) v = QLocale().toDouble(t, &ok);
    if (!ok || !std::isfinite(v)) return std::nullopt;
    return v;
}

bool isWhole(double v) {
    return std::isfinite(v) && std::floor(v) == v;
}

bool fitsSpinBox(const ParamSchema &p) {
    return (std::isinf(p.min) || p.min >= double(INT_MIN) + 1) && (std::isinf(p.max) || p.max <= INT_MAX);
}

int clampToInt(double v) {
    if (std::isnan(v)) return 0;
    if (v <= double(INT_MIN) + 1) return INT_MIN + 1;
    if (v >= double(INT_MAX)) return INT_MAX;
    return int(v);
}

// A value for tooltips and placeholders: numbers formatted, booleans as words.
QString shownText(const QJsonValue &v, const ParamSchema *p) {
    switch (v.type()) {
    case QJsonValue::Double:
        return formatNumber(v.toDouble(), p && p->type == ParamType::Integer);
    case QJsonValue::Bool:
        return v.toBool() ? Inspector::tr("on") : Inspector::tr("off");
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Array:
        return v.toArray().isEmpty() ? Inspector::tr("none") : Inspector::tr("a list");
    default:
        return {};
    }
}

bool isLight(const QPalette &pal) {
    return pal.color(QPalette::Base).lightness() >= 128;
}

QColor mixed(const QColor &a, const QColor &b, double t) {
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

QColor errorColour(const QPalette &pal) {
    return isLight(pal) ? QColor(0xb0, 0x1c, 0x1c) : QColor(0xff, 0x8a, 0x80);
}

QColor warningColour(const QPalette &pal) {
    return isLight(pal) ? QColor(0x8a, 0x5a, 0x00) : QColor(0xf0, 0xc0, 0x60);
}

QColor secondaryText(const QPalette &pal) {
    return mixed(pal.color(QPalette::WindowText), pal.color(QPalette::Window), 0.35);
}

// The small row buttons draw their own icons in the palette's colours (no font or theme needed).
QIcon infoIcon(const QPalette &pal, qreal dpr) {
    QPixmap pm(QSize(16, 16) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor c = mixed(pal.color(QPalette::ButtonText), pal.color(QPalette::Highlight), 0.5);
    p.setPen(QPen(c, 1.3));
    p.drawEllipse(QRectF(1.5, 1.5, 13, 13));
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawEllipse(QRectF(7.0, 3.9, 2.0, 2.0));
    p.drawRoundedRect(QRectF(7.1, 6.8, 1.8, 5.6), 0.6, 0.6);
    return QIcon(pm);
}

QIcon resetIcon(const QPalette &pal, qreal dpr) {
    QPixmap pm(QSize(16, 16) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor c = pal.color(QPalette::ButtonText);
    p.setPen(QPen(c, 1.5, Qt::SolidLine, Qt::RoundCap));
    p.drawArc(QRectF(2.5, 2.5, 11, 11), 100 * 16, 270 * 16); // counter-clockwise from the top
    QPainterPath head;
    head.moveTo(5.6, 0.8);
    head.lineTo(9.4, 3.0);
    head.lineTo(5.8, 5.6);
    head.closeSubpath();
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawPath(head);
    return QIcon(pm);
}

QIcon dotIcon(const QColor &c, qreal dpr) {
    QPixmap pm(QSize(12, 12) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawEllipse(QRectF(2, 2, 8, 8));
    return QIcon(pm);
}

QString tooltipFor(const QString &path, const ParamSchema &p, const QJsonValue &def, const QString &defFrom) {
    QString tip =
        QStringLiteral("<p><b>%1</b></p><p>%2</p>").arg(path.toHtmlEscaped(), p.help.toHtmlEscaped());
    if (p.type != ParamType::GroupList)
        tip += QStringLiteral("<p>") + Inspector::tr("Allowed: %1").arg(p.allowedText().toHtmlEscaped());
    QString d = shownText(def, &p);
    if (!p.unit.isEmpty() && def.isDouble()) d += QLatin1Char(' ') + p.unit;
    if (!p.zeroText.isEmpty() && def.isDouble() && def.toDouble() == 0)
        d += QStringLiteral(" (") + p.zeroText + QLatin1Char(')');
    if (!defFrom.isEmpty()) d = Inspector::tr("%1, from %2").arg(d, defFrom);
    if (!d.isEmpty()) tip += QStringLiteral("<br>") + Inspector::tr("Default: %1").arg(d.toHtmlEscaped());
    if (!p.zeroText.isEmpty() && !(def.isDouble() && def.toDouble() == 0))
        tip += QStringLiteral("<br>") + Inspector::tr("0 means: %1").arg(p.zeroText.toHtmlEscaped());
    return tip + QStringLiteral("</p>");
}

// The selection of a path or canvas node id, and the field inside it ("" when the path is the selection).
QString selectionOf(const FederationModel &model, const QString &in, QString *field) {
    if (field) field->clear();
    const Registry &reg = Registry::global();
    const QString id = in.trimmed();
    if (id.isEmpty()) return {};
    if (id == QLatin1String("server")) return QStringLiteral("strategy");
    if (id.startsWith(QLatin1String("stage:"))) {
        const QString key = id.mid(6);
        return reg.section(key) ? key : QString();
    }
    if (id.startsWith(QLatin1String("group:"))) {
        const QString name = id.mid(6);
        const QJsonArray list = model.value(kGroupsPath).toArray();
        for (qsizetype i = 0; i < list.size(); ++i)
            if (list.at(i).toObject().value(QStringLiteral("name")).toString() == name)
                return groupPath(int(i));
        return list.isEmpty() && name == QLatin1String("clients") ? QStringLiteral("clients") : QString();
    }
    QString rest;
    if (const int g = groupIndex(id, &rest); g >= 0) {
        if (g >= explicitGroupCount(model)) return QStringLiteral("clients");
        if (field && !rest.isEmpty()) *field = id;
        return groupPath(g);
    }
    const QString section = id.section(QLatin1Char('.'), 0, 0).section(QLatin1Char('['), 0, 0);
    if (reg.section(section)) {
        if (field && id != section) *field = id;
        return section;
    }
    if (id == QLatin1String("name") || id == QLatin1String("description"))
        if (field) *field = id;
    return {};
}

} // namespace

// ---------------------------------------------------------------------------------------------------------

Inspector::Inspector(FederationModel *model, QWidget *parent)
    : QScrollArea(parent)
    , m_model(model) {
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setMinimumWidth(300);
    connect(m_model, &FederationModel::validated, this, &Inspector::refresh);
    rebuild();
}

Inspector::~Inspector() {
    // The page goes while the inspector is whole: its editors lose the focus on the way, and what they
    // signal then is ignored (a stale generation, no rows).
    ++m_generation;
    disconnect(m_model, nullptr, this, nullptr);
    const QList<Row *> rows = m_rows;
    m_rows.clear();
    delete takeWidget();
    qDeleteAll(rows);
}

QString Inspector::selectionForNode(const FederationModel &model, const QString &nodeId) {
    return selectionOf(model, nodeId, nullptr);
}

QString Inspector::normalizedSelection(const QString &pathOrNodeId, QString *field) const {
    return selectionOf(*m_model, pathOrNodeId, field);
}

void Inspector::setSelection(const QString &pathOrNodeId) {
    const QString sel = normalizedSelection(pathOrNodeId);
    if (sel == m_selection && m_signature == signature()) return;
    const bool changed = sel != m_selection;
    m_selection = sel;
    rebuild();
    verticalScrollBar()->setValue(0);
    if (changed) Q_EMIT selectionChanged(m_selection);
}

void Inspector::focusPath(const QString &path) {
    QString field;
    const QString sel = normalizedSelection(path, &field);
    setSelection(sel);
    Row *row = rowAt(field.isEmpty() ? path : field);
    if (!row && !field.isEmpty()) {
        // A group's count or fraction is edited by its size row; a component's keys by the combo.
        QString rest;
        const int g = groupIndex(field, &rest);
        if (g >= 0 && (rest == QLatin1String("count") || rest == QLatin1String("fraction")))
            row = rowAt(groupPath(g) + QStringLiteral(".size"));
    }
    if (!row || !row->editor) return;
    row->editor->setFocus(Qt::OtherFocusReason);
    ensureWidgetVisible(row->editor);
}

QStringList Inspector::editorPaths() const {
    QStringList out;
    for (const Row *r : m_rows)
        out.append(r->path);
    return out;
}

QWidget *Inspector::editor(const QString &path) const {
    const bool mode = path.endsWith(QLatin1String(":mode"));
    const QString p = mode ? path.chopped(5) : path;
    for (Row *r : m_rows)
        if (r->path == p) return mode ? r->mode : r->editor;
    return nullptr;
}

QString Inspector::messageAt(const QString &path) const {
    for (const Row *r : m_rows)
        if (r->path == path) return r->message && !r->message->isHidden() ? r->message->text() : QString();
    return {};
}

QToolButton *Inspector::resetButton(const QString &path) const {
    for (Row *r : m_rows)
        if (r->path == path) return r->reset;
    return nullptr;
}

QToolButton *Inspector::explanationButton(const QString &path) const {
    for (Row *r : m_rows)
        if (r->path == path) return r->info;
    return nullptr;
}

QString Inspector::humanise(const QString &key) {
    static const QHash<QString, QString> words{{QStringLiteral("lr"), QStringLiteral("LR")},
                                               {QStringLiteral("dp"), QStringLiteral("DP")},
                                               {QStringLiteral("l2"), QStringLiteral("L2")},
                                               {QStringLiteral("id"), QStringLiteral("ID")},
                                               {QStringLiteral("ids"), QStringLiteral("IDs")}};
    QStringList parts = key.split(QRegularExpression(QStringLiteral("[_\\-]")), Qt::SkipEmptyParts);
    for (QString &w : parts)
        if (words.contains(w)) w = words.value(w);
    QString out = parts.join(QLatin1Char(' '));
    if (!out.isEmpty()) out[0] = out[0].toUpper();
    return out;
}

Inspector::Row *Inspector::rowOf(QObject *object) {
    for (Row *r : m_rows)
        if (object && (r->editor == object || r->mode == object)) return r;
    return nullptr;
}

Inspector::Row *Inspector::rowAt(const QString &path) {
    for (Row *r : m_rows)
        if (r->path == path) return r;
    return nullptr;
}

// What the page shows depends on: the selection, the components selected in it, the parameter list and,
// for a group, whether privacy is local. A change of any of these rebuilds the page; anything else only
// refreshes the values.
QString Inspector::signature() const {
    QStringList parts{m_selection};
    if (m_selection.isEmpty()) return parts.join(QLatin1Char('\n'));
    if (groupIndex(m_selection) >= 0) {
        parts += m_model->parameterPaths(m_selection);
        const QString behaviour = m_selection + QStringLiteral(".behaviour");
        parts += m_model->parameterPaths(behaviour);
        if (const ComponentSchema *c = m_model->selectedComponent(behaviour)) parts.append(c->name);
        parts.append(m_model->effectiveValue(QStringLiteral("privacy.mode")).toString());
    } else {
        parts += m_model->parameterPaths(m_selection);
        if (const ComponentSchema *c = m_model->selectedComponent(m_selection)) parts.append(c->name);
    }
    return parts.join(QLatin1Char('\n'));
}

// ---------------------------------------------------------------------------------------------------------
// Building the page

void Inspector::rebuild() {
    // Keep the keyboard where it was: the same field of the new page, or at least inside the inspector.
    QWidget *focused = QApplication::focusWidget();
    const bool focusInside = focused && m_page && m_page->isAncestorOf(focused);
    Row *focusedRow = focusInside ? rowOf(focused) : nullptr;
    const QString focusedPath = focusedRow ? focusedRow->path : QString();
    const bool focusedMode = focusedRow && focused == focusedRow->mode;
    const int scroll = verticalScrollBar()->value();

    ++m_generation;
    qDeleteAll(m_rows);
    m_rows.clear();
    m_tabOrder.clear();
    m_grid = nullptr;
    m_gridRow = 0;
    m_groupList = nullptr;
    m_sectionProblems = nullptr;

    if (!m_selection.isEmpty()) m_selection = normalizedSelection(m_selection);

    auto *page = new QWidget;
    page->setObjectName(QStringLiteral("inspectorPage"));
    m_page = page;
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(10, 10, 10, 10);
    layout->setSpacing(8);
    if (m_selection.isEmpty())
        buildWorkspacePage(layout);
    else if (const int g = groupIndex(m_selection); g >= 0)
        buildGroupPage(layout, g);
    else
        buildSectionPage(layout, m_selection);
    layout->addStretch(1);

    QWidget *old = takeWidget();
    setWidget(page);
    if (old) {
        old->hide();
        old->deleteLater(); // an editor of the old page may be emitting the signal that got us here
    }
    m_signature = signature();

    // Tab order follows the page: disclosures and links where they are, each row's editor, mode, reset
    // and explanation buttons in turn.
    for (qsizetype i = 1; i < m_tabOrder.size(); ++i)
        setTabOrder(m_tabOrder[i - 1], m_tabOrder[i]);

    m_updating = true;
    for (Row *r : std::as_const(m_rows))
        showValue(*r);
    m_updating = false;
    for (Row *r : std::as_const(m_rows))
        showMessage(*r);
    updateGroupList();
    updateSectionProblems();
    fitLabelColumn();
    relayout();

    if (focusInside) {
        Row *again = focusedPath.isEmpty() ? nullptr : rowAt(focusedPath);
        QWidget *target = again ? (focusedMode && again->mode ? again->mode : again->editor) : nullptr;
        if (target)
            target->setFocus(Qt::OtherFocusReason);
        else
            setFocus(Qt::OtherFocusReason);
        const int gen = m_generation;
        QTimer::singleShot(0, this, [this, gen, scroll] {
            if (gen == m_generation) verticalScrollBar()->setValue(scroll);
        });
    }
}

// A wrapped line of plain text in the secondary (dimmer) text colour.
QLabel *Inspector::secondaryLabel(const QString &text, const QString &objectName) {
    auto *label = new QLabel(text, m_page);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, secondaryText(palette()));
    label->setPalette(pal);
    return label;
}

// Problems of the selection that no field shows (cross-field rules on the section, a group's shape).
void Inspector::addProblemsLabel(QVBoxLayout *page) {
    m_sectionProblems = new QLabel(m_page);
    m_sectionProblems->setObjectName(QStringLiteral("sectionProblems"));
    m_sectionProblems->setWordWrap(true);
    m_sectionProblems->setTextFormat(Qt::PlainText);
    m_sectionProblems->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_sectionProblems->hide();
    page->addWidget(m_sectionProblems);
}

// Below a component combo: the component's one-line help and its "What is ...?".
void Inspector::addComponentHelp(const ComponentSchema *c) {
    if (!c) return;
    m_grid->addWidget(secondaryLabel(c->help, QStringLiteral("componentHelp")), m_gridRow++, 0, 1, 4);
    if (!c->explanation.isEmpty())
        m_grid->addWidget(disclosure(tr("What is %1?").arg(c->title), c->explanation), m_gridRow++, 0, 1, 4);
}

void Inspector::addHeading(QVBoxLayout *page, const QString &title, const QString &help) {
    auto *heading = new QLabel(title, m_page);
    heading->setObjectName(QStringLiteral("heading"));
    QFont f = heading->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.25);
    heading->setFont(f);
    heading->setWordWrap(true);
    page->addWidget(heading);
    if (!help.isEmpty()) page->addWidget(secondaryLabel(help, QStringLiteral("headingHelp")));
}

// A "What is ...?" button that opens a plain-language paragraph below it.
QWidget *Inspector::disclosure(const QString &title, const QString &text) {
    auto *box = new QWidget(m_page);
    auto *v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(4);
    auto *button = new QToolButton(box);
    button->setObjectName(QStringLiteral("disclosure"));
    button->setText(title);
    button->setCheckable(true);
    button->setAutoRaise(true);
    button->setArrowType(Qt::RightArrow);
    button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    button->setFocusPolicy(Qt::StrongFocus);
    m_tabOrder.append(button);
    auto *label = new QLabel(text, box);
    label->setObjectName(QStringLiteral("disclosureText"));
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setAutoFillBackground(true);
    label->setMargin(8);
    QPalette pal = label->palette();
    pal.setColor(QPalette::Window,
                 mixed(palette().color(QPalette::Window), palette().color(QPalette::Base), 0.6));
    label->setPalette(pal);
    label->hide();
    v->addWidget(button, 0, Qt::AlignLeft);
    v->addWidget(label);
    connect(button, &QToolButton::toggled, label, [button, label](bool on) {
        label->setVisible(on);
        button->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    return box;
}

QWidget *Inspector::newGrid(QVBoxLayout *page) {
    auto *holder = new QWidget(m_page);
    m_grid = new QGridLayout(holder);
    m_grid->setContentsMargins(0, 4, 0, 0);
    m_grid->setHorizontalSpacing(8);
    m_grid->setVerticalSpacing(6);
    m_grid->setColumnStretch(0, 0);
    m_grid->setColumnStretch(1, 1);
    m_gridRow = 0;
    page->addWidget(holder);
    return holder;
}

void Inspector::addSubheading(const QString &title, const QString &help) {
    auto *label = new QLabel(title, m_page);
    label->setObjectName(QStringLiteral("subheading"));
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    label->setWordWrap(true);
    auto *line = new QFrame(m_page);
    line->setFrameShape(QFrame::HLine);
    line->setFrameShadow(QFrame::Sunken);
    if (m_gridRow > 0) m_grid->addItem(new QSpacerItem(0, 6), m_gridRow++, 0);
    m_grid->addWidget(line, m_gridRow++, 0, 1, 4);
    m_grid->addWidget(label, m_gridRow++, 0, 1, 4);
    if (!help.isEmpty())
        m_grid->addWidget(secondaryLabel(help, QStringLiteral("subheadingHelp")), m_gridRow++, 0, 1, 4);
}

void Inspector::buildWorkspacePage(QVBoxLayout *page) {
    addHeading(
        page, tr("Workspace"),
        tr("Select a node on the canvas to edit it, or open a section below. Problems are listed in the "
           "validation panel; click one to go to its field."));
    newGrid(page);
    addTextRow(QStringLiteral("name"), tr("Name"), false);
    addTextRow(QStringLiteral("description"), tr("Description"), true);
    addSubheading(tr("Sections"));
    auto *links = new QLabel(m_page);
    links->setObjectName(QStringLiteral("sectionLinks"));
    links->setWordWrap(true);
    links->setTextFormat(Qt::RichText);
    links->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    QString html;
    for (const SectionSchema &s : Registry::global().sections())
        html += QStringLiteral("<p><a href=\"%1\">%2</a><br>%3</p>")
                    .arg(s.key.toHtmlEscaped(), humanise(s.key).toHtmlEscaped(), s.help.toHtmlEscaped());
    links->setText(html);
    m_tabOrder.append(links);
    connect(links, &QLabel::linkActivated, this, [this](const QString &link) {
        QTimer::singleShot(0, this, [this, link] { setSelection(link); });
    });
    m_grid->addWidget(links, m_gridRow++, 0, 1, 4);
}

void Inspector::buildSectionPage(QVBoxLayout *page, const QString &section) {
    const Registry &reg = Registry::global();
    const SectionSchema *s = reg.section(section);
    if (!s) return;
    addHeading(page, humanise(section), s->help);
    if (!s->explanation.isEmpty())
        page->addWidget(disclosure(tr("What is this section for?"), s->explanation));
    addProblemsLabel(page);

    newGrid(page);
    const ComponentSchema *component = m_model->selectedComponent(section);
    const QStringList paths = m_model->parameterPaths(section);
    if (!s->category.isEmpty()) {
        addComponentRow(section, s->category, humanise(s->category));
        addComponentHelp(component);
    }
    // The section's own keys, then (under the component's title) the selected component's.
    const QString prefix = section + QLatin1Char('.');
    for (const QString &path : paths) {
        const QString key = path.mid(prefix.size());
        const ParamSchema *p = s->param(key);
        if (!p || key == QLatin1String("name")) continue;
        if (p->type == ParamType::GroupList)
            addGroupList(path);
        else
            addParamRow(path);
    }
    bool first = true;
    for (const QString &path : paths) {
        const QString key = path.mid(prefix.size());
        if (s->param(key) || key == QLatin1String("name")) continue;
        if (first && component) addSubheading(tr("%1 parameters").arg(component->title));
        first = false;
        addParamRow(path);
    }
}

void Inspector::buildGroupPage(QVBoxLayout *page, int group) {
    const QString at = groupPath(group);
    const QString name = m_model->value(at + QStringLiteral(".name")).toString();
    addHeading(page, tr("Group \u201c%1\u201d").arg(name), QString());
    page->addWidget(secondaryLabel({}, QStringLiteral("groupSpan"))); // filled by updateGroupList()
    addProblemsLabel(page);

    newGrid(page);
    addParamRow(at + QStringLiteral(".name"), tr("Name"));
    if (Row *nameRow = rowAt(at + QStringLiteral(".name"))) nameRow->removable = false;
    addGroupSizeRow(group);
    addParamRow(at + QStringLiteral(".epochs"), {}, QStringLiteral("training.epochs"));

    const QString behaviour = at + QStringLiteral(".behaviour");
    addSubheading(tr("Behaviour"),
                  tr("How the clients of this group act: honest, dropping out, or an attack."));
    addComponentRow(behaviour, QStringLiteral("behaviour"), tr("Behaviour"));
    addComponentHelp(m_model->selectedComponent(behaviour));
    for (const QString &path : m_model->parameterPaths(behaviour))
        if (!path.endsWith(QLatin1String(".name"))) addParamRow(path);

    addSubheading(tr("Local privacy"));
    if (m_model->effectiveValue(QStringLiteral("privacy.mode")).toString() == QLatin1String("local")) {
        for (const QString &key : groupPrivacyOverrides())
            addParamRow(at + QStringLiteral(".privacy.") + key, {}, QStringLiteral("privacy.") + key);
    } else {
        const QString mode = m_model->effectiveValue(QStringLiteral("privacy.mode")).toString();
        m_grid->addWidget(
            secondaryLabel(tr("With privacy.mode local every client adds noise to its own update, "
                              "and this group can choose its own clip norm and noise. Privacy "
                              "is now \u201c%1\u201d (the Privacy section).")
                               .arg(mode),
                           QStringLiteral("privacyHint")),
            m_gridRow++, 0, 1, 4);
    }
}

// The label, field, reset and explanation buttons of a row, and its message and explanation lines.
void Inspector::finishRow(Row &row, QWidget *field) {
    row.label = new QLabel(row.title, m_page);
    row.label->setBuddy(row.editor);
    // A section's setting can be swept: right-click its label (run/Sweep.h takes "section.key" paths).
    if (row.path.count(QLatin1Char('.')) == 1 && !row.path.contains(QLatin1Char('['))) {
        row.label->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(row.label, &QWidget::customContextMenuRequested, this,
                [this, path = row.path, label = row.label](const QPoint &at) {
                    QMenu menu(this);
                    QAction *vary = menu.addAction(tr("Vary %1…").arg(path));
                    vary->setStatusTip(tr("Run a sweep over values of this setting and compare the runs"));
                    if (menu.exec(label->mapToGlobal(at)) == vary) Q_EMIT varyRequested(path);
                });
    }
    row.label->setWordWrap(true); // only when the dock is too narrow for it: see fitLabelColumn()
    // In a narrow dock a field may get narrower than its longest text (a spin box's special value, a
    // combo's longest item): the tooltip still has it all.
    for (QWidget *w : {row.editor, static_cast<QWidget *>(row.mode)})
        if (w && row.kind != Kind::MultiLineText)
            w->setMinimumWidth(std::min(w->minimumSizeHint().width(), 72));
    row.editor->setObjectName(row.path);
    row.editor->setAccessibleName(row.title);
    row.editor->installEventFilter(this);
    if (row.mode) {
        row.mode->setObjectName(row.path + QStringLiteral(":mode"));
        row.mode->setAccessibleName(tr("%1: count or fraction").arg(row.title));
        row.mode->installEventFilter(this);
    }

    const qreal dpr = devicePixelRatioF();
    row.reset = new QToolButton(m_page);
    row.reset->setObjectName(QStringLiteral("reset:") + row.path);
    row.reset->setIcon(resetIcon(palette(), dpr));
    row.reset->setAutoRaise(true);
    row.reset->setFocusPolicy(Qt::StrongFocus);
    row.reset->setToolTip(tr("Reset to the default"));
    row.reset->setAccessibleName(tr("Reset %1 to its default").arg(row.title));
    QSizePolicy keep = row.reset->sizePolicy();
    keep.setRetainSizeWhenHidden(true);
    row.reset->setSizePolicy(keep);
    row.reset->hide();

    row.info = new QToolButton(m_page);
    row.info->setObjectName(QStringLiteral("explain:") + row.path);
    row.info->setIcon(infoIcon(palette(), dpr));
    row.info->setAutoRaise(true);
    row.info->setCheckable(true);
    row.info->setFocusPolicy(Qt::StrongFocus);
    row.info->setToolTip(tr("What is this?"));
    row.info->setAccessibleName(tr("Explain %1").arg(row.title));
    row.info->setSizePolicy(keep);

    row.message = new QLabel(m_page);
    row.message->setObjectName(QStringLiteral("message:") + row.path);
    row.message->setWordWrap(true);
    row.message->setTextFormat(Qt::PlainText);
    row.message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row.message->hide();

    const QString explanation = row.hasSchema ? row.schema.explanation : QString();
    row.explanation = new QLabel(explanation, m_page);
    row.explanation->setObjectName(QStringLiteral("explanation:") + row.path);
    row.explanation->setWordWrap(true);
    row.explanation->setTextFormat(Qt::PlainText);
    row.explanation->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row.explanation->setAutoFillBackground(true);
    row.explanation->setMargin(8);
    QPalette ep = row.explanation->palette();
    ep.setColor(QPalette::Window,
                mixed(palette().color(QPalette::Window), palette().color(QPalette::Base), 0.6));
    row.explanation->setPalette(ep);
    row.explanation->hide();
    if (explanation.isEmpty()) row.info->hide();
    QLabel *text = row.explanation;
    connect(row.info, &QToolButton::toggled, text, &QLabel::setVisible);
    for (QWidget *w : {row.editor, static_cast<QWidget *>(row.mode), static_cast<QWidget *>(row.reset),
                       static_cast<QWidget *>(row.info)})
        if (w) m_tabOrder.append(w);

    const int r = m_gridRow;
    m_grid->addWidget(row.label, r, 0,
                      Qt::AlignLeft | (row.kind == Kind::MultiLineText ? Qt::AlignTop : Qt::AlignVCenter));
    m_grid->addWidget(field, r, 1);
    m_grid->addWidget(row.reset, r, 2);
    m_grid->addWidget(row.info, r, 3);
    m_grid->addWidget(row.message, r + 1, 1, 1, 3);
    m_grid->addWidget(row.explanation, r + 2, 0, 1, 4);
    m_gridRow += 3;

    const int gen = m_generation;
    Row *rp = &row;
    connect(row.reset, &QToolButton::clicked, this, [this, gen, rp] {
        if (gen != m_generation) return;
        m_model->closeMergeWindow();
        commit(*rp, QJsonValue(QJsonValue::Undefined));
        if (gen != m_generation) return;
        m_model->closeMergeWindow();
        m_updating = true;
        showValue(*rp); // also when the field has the focus: its text goes
        m_updating = false;
        showMessage(*rp);
        rp->editor->setFocus(Qt::OtherFocusReason);
    });
}

// A text field whose edits reach textEdited/editingFinished of its row (while the page is current).
QLineEdit *Inspector::newTextField(Row *row, int generation) {
    auto *edit = new QLineEdit(m_page);
    connect(edit, &QLineEdit::textEdited, this, [this, generation, row](const QString &text) {
        if (generation == m_generation) textEdited(*row, text);
    });
    connect(edit, &QLineEdit::editingFinished, this, [this, generation, row] {
        if (generation == m_generation) editingFinished(*row);
    });
    return edit;
}

void Inspector::addParamRow(const QString &path, const QString &label, const QString &inheritedFrom) {
    const ParamSchema *p = m_model->paramSchema(path);
    if (!p) return;
    auto *row = new Row;
    m_rows.append(row);
    row->path = path;
    row->schema = *p;
    row->hasSchema = true;
    row->title = label.isEmpty() ? humanise(p->key) : label;
    row->inheritedFrom = inheritedFrom;
    const int gen = m_generation;
    QWidget *field = nullptr;
    switch (p->type) {
    case ParamType::Integer:
        if (fitsSpinBox(*p)) {
            row->kind = Kind::Spin;
            auto *spin = new QSpinBox(m_page);
            if (!p->unit.isEmpty()) spin->setSuffix(QLatin1Char(' ') + p->unit);
            const int lo =
                clampToInt(std::isinf(p->min) ? -1e18 : std::ceil(p->min + (p->minExclusive ? 1 : 0)));
            const int hi = clampToInt(std::isinf(p->max) ? 1e18 : std::floor(p->max));
            spin->setRange(lo, hi);
            if (!p->zeroText.isEmpty() && lo == 0) spin->setSpecialValueText(p->zeroText);
            spin->setAccelerated(true);
            row->editor = spin;
            connect(spin, &QSpinBox::valueChanged, this, [this, gen, row](int v) {
                if (gen == m_generation && !m_updating) commit(*row, double(v));
            });
            connect(spin, &QSpinBox::editingFinished, this, [this, gen, row] {
                if (gen == m_generation) editingFinished(*row);
            });
            break;
        }
        [[fallthrough]];
    case ParamType::Real: {
        row->kind = Kind::Number;
        auto *edit = newTextField(row, gen);
        edit->setClearButtonEnabled(false);
        row->editor = edit;
        break;
    }
    case ParamType::Boolean: {
        row->kind = Kind::Check;
        auto *check = new QCheckBox(m_page);
        row->editor = check;
        connect(check, &QCheckBox::clicked, this, [this, gen, row](bool on) {
            if (gen != m_generation) return;
            m_model->closeMergeWindow();
            commit(*row, on);
            if (gen == m_generation) m_model->closeMergeWindow();
        });
        break;
    }
    case ParamType::Choice: {
        row->kind = Kind::Choice;
        auto *combo = new QComboBox(m_page);
        for (const QString &c : p->choices)
            combo->addItem(c, c);
        row->editor = combo;
        connect(combo, &QComboBox::activated, this, [this, gen, row, combo](int index) {
            if (gen != m_generation) return;
            const QString v = combo->itemData(index).toString();
            if (v.isEmpty()) return; // the "unknown" entry of a value the file has
            m_model->closeMergeWindow();
            commit(*row, v);
            if (gen == m_generation) m_model->closeMergeWindow();
        });
        break;
    }
    case ParamType::String: {
        row->kind = Kind::Text;
        row->editor = newTextField(row, gen);
        break;
    }
    case ParamType::CountOrFraction: {
        row->kind = Kind::CountOrFraction;
        auto *edit = newTextField(row, gen);
        auto *mode = new QComboBox(m_page);
        mode->addItem(tr("clients"), QStringLiteral("count"));
        mode->addItem(tr("fraction"), QStringLiteral("fraction"));
        mode->setItemData(0, tr("A number of clients"), Qt::ToolTipRole);
        mode->setItemData(1, tr("A share of clients.count, between 0 and 1"), Qt::ToolTipRole);
        row->editor = edit;
        row->mode = mode;
        connect(mode, &QComboBox::activated, this, [this, gen, row, mode](int index) {
            if (gen != m_generation) return;
            const bool fraction = mode->itemData(index).toString() == QLatin1String("fraction");
            const QJsonValue eff = row->shown.isUndefined() ? m_model->effectiveValue(row->path) : row->shown;
            const double v = eff.toDouble();
            const double total =
                std::max(1.0, m_model->effectiveValue(QStringLiteral("clients.count")).toDouble());
            double next = v;
            if (fraction && v >= 1) {
                next = std::round(v / total * 1000) / 1000;
                if (!(next > 0 && next < 1)) next = 0.5;
            } else if (!fraction && v < 1) {
                next = std::max(1.0, std::round(v * total));
            }
            m_model->closeMergeWindow();
            commit(*row, next);
            if (gen != m_generation) return;
            m_model->closeMergeWindow();
            m_updating = true;
            showValue(*row);
            m_updating = false;
        });
        break;
    }
    case ParamType::GroupList:
        m_rows.removeOne(row);
        delete row;
        return;
    }
    if (row->kind == Kind::Number || row->kind == Kind::CountOrFraction) {
        auto *box = new QWidget(m_page);
        auto *h = new QHBoxLayout(box);
        h->setContentsMargins(0, 0, 0, 0);
        h->setSpacing(6);
        h->addWidget(row->editor, 1);
        if (row->mode) h->addWidget(row->mode);
        if (!p->unit.isEmpty() && row->kind == Kind::Number) {
            row->unit = new QLabel(p->unit, box);
            h->addWidget(row->unit);
        }
        field = box;
    } else if (row->kind == Kind::Check) {
        auto *box = new QWidget(m_page);
        auto *h = new QHBoxLayout(box);
        h->setContentsMargins(0, 0, 0, 0);
        h->addWidget(row->editor);
        h->addStretch(1);
        field = box;
    } else {
        field = row->editor;
    }
    finishRow(*row, field);
}

void Inspector::addComponentRow(const QString &sectionPath, const QString &category, const QString &label) {
    auto *row = new Row;
    m_rows.append(row);
    row->path = sectionPath + QStringLiteral(".name");
    row->kind = Kind::Component;
    row->category = category;
    row->sectionPath = sectionPath;
    row->title = label;
    row->removable = false;
    if (const ParamSchema *p = m_model->paramSchema(row->path)) {
        row->schema = *p;
        row->hasSchema = true;
        row->schema.explanation.clear(); // the component's own explanation is shown below the combo
    }
    auto *combo = new QComboBox(m_page);
    const Registry &reg = Registry::global();
    for (const QString &name : reg.componentNames(category)) {
        const ComponentSchema *c = reg.component(category, name);
        combo->addItem(c->title.isEmpty() ? name : c->title, name);
        combo->setItemData(combo->count() - 1, c->help, Qt::ToolTipRole);
    }
    combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    combo->setMinimumContentsLength(12);
    row->editor = combo;
    const int gen = m_generation;
    connect(combo, &QComboBox::activated, this, [this, gen, row, combo](int index) {
        if (gen != m_generation) return;
        const QString name = combo->itemData(index).toString();
        if (name.isEmpty()) return;
        m_model->closeMergeWindow();
        const QString section = row->sectionPath;
        m_model->setComponent(section, name); // rebuilds the page (other parameters)
        m_model->closeMergeWindow();
    });
    finishRow(*row, combo);
}

void Inspector::addGroupSizeRow(int group) {
    auto *row = new Row;
    m_rows.append(row);
    row->path = groupPath(group) + QStringLiteral(".size");
    row->kind = Kind::GroupSize;
    row->group = group;
    row->title = tr("Size");
    row->removable = false;
    ParamSchema size;
    size.key = QStringLiteral("size");
    size.type = ParamType::CountOrFraction;
    size.min = 0;
    size.max = 1000000;
    size.help = tr("How many of the population's clients are in this group: a count, or a fraction of "
                   "clients.count.");
    size.explanation =
        tr("Give a count when you think in devices (5 attackers), a fraction when you think in "
           "shares (a quarter of the clients). With counts, the population's client count follows "
           "the groups: adding 3 clients here adds 3 to clients.count. With fractions the groups "
           "share clients.count between them.");
    row->schema = size;
    row->hasSchema = true;
    auto *edit = newTextField(row, m_generation);
    auto *mode = new QComboBox(m_page);
    mode->addItem(tr("clients"), QStringLiteral("count"));
    mode->addItem(tr("fraction"), QStringLiteral("fraction"));
    mode->setItemData(0, tr("A number of clients"), Qt::ToolTipRole);
    mode->setItemData(1, tr("A share of clients.count, between 0 and 1"), Qt::ToolTipRole);
    row->editor = edit;
    row->mode = mode;
    const int gen = m_generation;
    connect(mode, &QComboBox::activated, this, [this, gen, row, mode](int index) {
        if (gen != m_generation) return;
        const bool fraction = mode->itemData(index).toString() == QLatin1String("fraction");
        const QJsonObject was = row->shown.toObject();
        const double total =
            std::max(1.0, m_model->effectiveValue(QStringLiteral("clients.count")).toDouble());
        QJsonObject next;
        if (fraction && was.contains(QStringLiteral("count")))
            next.insert(
                QStringLiteral("fraction"),
                std::clamp(std::round(was.value(QStringLiteral("count")).toDouble() / total * 1000) / 1000,
                           0.001, 1.0));
        else if (!fraction && was.contains(QStringLiteral("fraction")))
            next.insert(QStringLiteral("count"),
                        std::max(1.0, std::round(was.value(QStringLiteral("fraction")).toDouble() * total)));
        else
            return;
        m_model->closeMergeWindow();
        commit(*row, next);
        if (gen != m_generation) return;
        m_model->closeMergeWindow();
        m_updating = true;
        showValue(*row);
        m_updating = false;
    });
    auto *box = new QWidget(m_page);
    auto *h = new QHBoxLayout(box);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(6);
    h->addWidget(edit, 1);
    h->addWidget(mode);
    finishRow(*row, box);
}

void Inspector::addTextRow(const QString &path, const QString &label, bool multiLine) {
    auto *row = new Row;
    m_rows.append(row);
    row->path = path;
    row->title = label;
    row->kind = multiLine ? Kind::MultiLineText : Kind::Text;
    const int gen = m_generation;
    if (multiLine) {
        auto *edit = new QPlainTextEdit(m_page);
        edit->setTabChangesFocus(true);
        edit->setFixedHeight(edit->fontMetrics().lineSpacing() * 5 + 12);
        row->editor = edit;
        connect(edit, &QPlainTextEdit::textChanged, this, [this, gen, row, edit] {
            if (gen != m_generation || m_updating) return;
            const QString text = edit->toPlainText();
            commit(*row, text.isEmpty() ? QJsonValue(QJsonValue::Undefined) : QJsonValue(text));
        });
    } else {
        row->editor = newTextField(row, gen);
    }
    finishRow(*row, row->editor);
}

void Inspector::addGroupList(const QString &path) {
    const ParamSchema *p = m_model->paramSchema(path);
    addSubheading(p ? humanise(p->key) : tr("Groups"));
    m_groupList = new QLabel(m_page);
    m_groupList->setObjectName(QStringLiteral("groupList"));
    m_groupList->setWordWrap(true);
    m_groupList->setTextFormat(Qt::RichText);
    m_groupList->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    m_groupList->setFocusPolicy(Qt::StrongFocus);
    if (p) m_groupList->setToolTip(tooltipFor(path, *p, p->defaultValue, {}));
    m_tabOrder.append(m_groupList);
    connect(m_groupList, &QLabel::linkActivated, this, [this](const QString &link) {
        QTimer::singleShot(0, this, [this, link] { setSelection(link); });
    });
    m_grid->addWidget(m_groupList, m_gridRow++, 0, 1, 4);
    if (p && !p->explanation.isEmpty())
        m_grid->addWidget(disclosure(tr("What are groups?"), p->explanation), m_gridRow++, 0, 1, 4);
}

// ---------------------------------------------------------------------------------------------------------
// Values

QJsonValue Inspector::shownValue(const Row &row) const {
    if (row.kind == Kind::GroupSize) {
        const QJsonObject g = m_model->value(groupPath(row.group)).toObject();
        QJsonObject size;
        for (const QString &key : {QStringLiteral("count"), QStringLiteral("fraction")})
            if (g.contains(key)) size.insert(key, g.value(key));
        return size.isEmpty() ? QJsonValue(QJsonValue::Undefined) : QJsonValue(size);
    }
    return m_model->value(row.path);
}

void Inspector::showValue(Row &row) {
    const QJsonValue v = shownValue(row);
    row.shown = v;
    row.parseError.clear();
    const bool set = !v.isUndefined();
    // Not set: the schema's default (what the reference calls the default, the same whether or not the
    // workspace is valid), or the value a group inherits.
    QJsonValue def = !row.inheritedFrom.isEmpty() ? m_model->effectiveValue(row.inheritedFrom)
                     : row.hasSchema              ? row.schema.defaultValue
                                                  : m_model->effectiveValue(row.path);
    const QJsonValue eff = set ? v : def;
    const ParamSchema *schema = row.hasSchema ? &row.schema : nullptr;
    const bool integer = schema && schema->type == ParamType::Integer;
    const QString defText = shownText(def, schema);
    const QString placeholder = row.inheritedFrom.isEmpty()
                                    ? tr("%1 (default)").arg(defText)
                                    : tr("%1 (from %2)").arg(defText, row.inheritedFrom);
    const QSignalBlocker block(row.editor);
    switch (row.kind) {
    case Kind::Spin: {
        auto *spin = static_cast<QSpinBox *>(row.editor);
        const double d = eff.toDouble();
        // A value outside the schema's range (written in the file) is shown as it is, with its error.
        const ParamSchema &p = row.schema;
        int lo = clampToInt(std::isinf(p.min) ? -1e18 : std::ceil(p.min + (p.minExclusive ? 1 : 0)));
        int hi = clampToInt(std::isinf(p.max) ? 1e18 : std::floor(p.max));
        if (eff.isDouble()) {
            lo = std::min(lo, clampToInt(d));
            hi = std::max(hi, clampToInt(d));
        }
        spin->setRange(lo, hi);
        spin->setValue(clampToInt(d));
        break;
    }
    case Kind::Number: {
        auto *edit = static_cast<QLineEdit *>(row.editor);
        QString text;
        if (set) text = v.isDouble() ? formatNumber(v.toDouble(), integer) : shownText(v, schema);
        if (edit->text() != text) edit->setText(text);
        QString ph = placeholder;
        if (schema && !schema->zeroText.isEmpty() && def.isDouble() && def.toDouble() == 0)
            ph = row.inheritedFrom.isEmpty() ? tr("0 = %1 (default)").arg(schema->zeroText) : placeholder;
        edit->setPlaceholderText(ph);
        break;
    }
    case Kind::Check:
        static_cast<QCheckBox *>(row.editor)->setChecked(eff.toBool());
        static_cast<QCheckBox *>(row.editor)
            ->setText(set ? QString() : (row.inheritedFrom.isEmpty() ? tr("(default)") : placeholder));
        break;
    case Kind::Choice:
    case Kind::Component: {
        auto *combo = static_cast<QComboBox *>(row.editor);
        // Drop a previous "unknown" entry, add one when the file names something not offered.
        for (int i = combo->count() - 1; i >= 0; --i)
            if (combo->itemData(i).toString().isEmpty()) combo->removeItem(i);
        int index = combo->findData(eff.toString());
        if (index < 0) {
            combo->insertItem(0, tr("%1 (unknown)").arg(shownText(eff, schema)), QString());
            index = 0;
        }
        combo->setCurrentIndex(index);
        break;
    }
    case Kind::Text: {
        auto *edit = static_cast<QLineEdit *>(row.editor);
        const QString text = set ? (v.isString() ? v.toString() : shownText(v, schema)) : QString();
        if (edit->text() != text) edit->setText(text);
        edit->setPlaceholderText(def.isString() && !def.toString().isEmpty() ? placeholder : QString());
        break;
    }
    case Kind::MultiLineText: {
        auto *edit = static_cast<QPlainTextEdit *>(row.editor);
        const QString text = v.toString();
        if (edit->toPlainText() != text) edit->setPlainText(text);
        break;
    }
    case Kind::CountOrFraction: {
        auto *edit = static_cast<QLineEdit *>(row.editor);
        const double d = eff.toDouble();
        const bool fraction = eff.isDouble() && d > 0 && d < 1;
        row.mode->setCurrentIndex(fraction ? 1 : 0);
        const QString text =
            set ? (v.isDouble() ? formatNumber(v.toDouble(), !fraction) : shownText(v, schema)) : QString();
        if (edit->text() != text) edit->setText(text);
        edit->setPlaceholderText(tr("%1 (default)").arg(formatNumber(d, !fraction)));
        break;
    }
    case Kind::GroupSize: {
        auto *edit = static_cast<QLineEdit *>(row.editor);
        const QJsonObject o = v.toObject();
        const bool fraction = o.contains(QStringLiteral("fraction")) && !o.contains(QStringLiteral("count"));
        row.mode->setCurrentIndex(fraction ? 1 : 0);
        const QJsonValue n = o.value(fraction ? QStringLiteral("fraction") : QStringLiteral("count"));
        const QString text = n.isDouble() ? formatNumber(n.toDouble(), !fraction) : shownText(n, nullptr);
        if (edit->text() != text) edit->setText(text);
        edit->setPlaceholderText(QString());
        break;
    }
    }
    if (row.kind == Kind::Text && !row.hasSchema) {
        static_cast<QLineEdit *>(row.editor)->setPlaceholderText(tr("untitled"));
    }

    // The tooltip: what it is, what is allowed, the default.
    if (schema) {
        const QString shownPath = row.kind == Kind::GroupSize
                                      ? groupPath(row.group) + QStringLiteral(".count / .fraction")
                                      : row.path;
        QString tip = tooltipFor(shownPath, *schema, def, row.inheritedFrom);
        // A default that depends on other values ("-1 = run.seed", "10, or clients.count if smaller").
        if (!set && m_model->spec() && row.kind != Kind::Component) {
            const QJsonValue now = m_model->effectiveValue(row.path);
            if (!now.isUndefined() && now != def)
                tip += QStringLiteral("<p>") +
                       tr("This workspace uses: %1").arg(shownText(now, schema).toHtmlEscaped()) +
                       QStringLiteral("</p>");
        }
        row.label->setToolTip(tip);
        row.editor->setToolTip(tip);
    }
}

void Inspector::showMessage(Row &row) {
    QStringList errors;
    QStringList warnings;
    if (!row.parseError.isEmpty()) {
        errors.append(row.parseError);
    } else {
        QStringList paths{row.path};
        if (row.kind == Kind::GroupSize)
            paths = {groupPath(row.group) + QStringLiteral(".count"),
                     groupPath(row.group) + QStringLiteral(".fraction")};
        for (const QString &p : paths)
            errors += m_model->errorsAt(p);
        if (!m_preflight.message.isEmpty() && paths.contains(m_preflight.path))
            errors.append(m_preflight.message);
        for (const SpecIssue &w : m_model->warnings())
            if (paths.contains(w.path)) warnings.append(w.message);
    }
    const bool set = !row.shown.isUndefined();
    const QPalette base = palette();
    QPalette pal = base;
    if (!errors.isEmpty()) {
        const double t = isLight(base) ? 0.18 : 0.32;
        const QColor red(0xe0, 0x30, 0x30);
        pal.setColor(QPalette::Base, mixed(base.color(QPalette::Base), red, t));
        pal.setColor(QPalette::Button, mixed(base.color(QPalette::Button), red, t));
    }
    if (!set && row.kind != Kind::MultiLineText) {
        const QColor grey = mixed(base.color(QPalette::Text), base.color(QPalette::Base), 0.4);
        pal.setColor(QPalette::Text, grey);
        pal.setColor(QPalette::ButtonText,
                     mixed(base.color(QPalette::ButtonText), base.color(QPalette::Button), 0.4));
        pal.setColor(QPalette::WindowText, grey);
    }
    row.editor->setPalette(pal);
    QFont f = font();
    f.setItalic(!set && row.kind != Kind::MultiLineText && row.kind != Kind::GroupSize);
    row.editor->setFont(f);
    if (row.mode) row.mode->setPalette(base);

    QPalette mp = row.message->palette();
    if (!errors.isEmpty()) {
        mp.setColor(QPalette::WindowText, errorColour(base));
        row.message->setText(errors.join(QLatin1Char('\n')));
    } else if (!warnings.isEmpty()) {
        mp.setColor(QPalette::WindowText, warningColour(base));
        row.message->setText(tr("Warning: %1").arg(warnings.join(QLatin1Char('\n'))));
    }
    row.message->setPalette(mp);
    row.message->setVisible(!errors.isEmpty() || !warnings.isEmpty());
    row.reset->setVisible(set && row.removable);
    if (set && row.removable && row.hasSchema)
        row.reset->setToolTip(
            tr("Reset to the default (%1)")
                .arg(shownText(row.inheritedFrom.isEmpty() ? row.schema.defaultValue
                                                           : m_model->effectiveValue(row.inheritedFrom),
                               &row.schema)));
}

void Inspector::textEdited(Row &row, const QString &typed) {
    const QString text = typed.trimmed();
    const ParamSchema &p = row.schema;
    switch (row.kind) {
    case Kind::Text:
        if (text.isEmpty() && row.removable)
            commit(row, QJsonValue(QJsonValue::Undefined));
        else
            commit(row, typed);
        return;
    case Kind::Number: {
        if (text.isEmpty()) {
            commit(row, QJsonValue(QJsonValue::Undefined));
            return;
        }
        const std::optional<double> v = parseNumber(text);
        if (!v) {
            row.parseError = p.check(text);
        } else if (p.type == ParamType::Integer && !isWhole(*v)) {
            row.parseError = p.check(*v);
        } else {
            commit(row, *v);
            return;
        }
        showMessage(row);
        relayout();
        return;
    }
    case Kind::CountOrFraction: {
        if (text.isEmpty()) {
            commit(row, QJsonValue(QJsonValue::Undefined));
            return;
        }
        const bool fraction = row.mode->currentData().toString() == QLatin1String("fraction");
        const std::optional<double> v = parseNumber(text);
        if (!v)
            row.parseError = p.check(text);
        else if (fraction && !(*v > 0 && *v < 1))
            row.parseError =
                tr("%1 is not a fraction; allowed: a number in (0, 1), or choose \u201cclients\u201d "
                   "for a count")
                    .arg(text);
        else if (!fraction && !isWhole(*v))
            row.parseError =
                tr("%1 is not a whole number of clients; allowed: an integer in [1, %2], or choose "
                   "\u201cfraction\u201d for a share")
                    .arg(text, formatNumber(p.max, true));
        else {
            commit(row, *v);
            return;
        }
        showMessage(row);
        relayout();
        return;
    }
    case Kind::GroupSize: {
        const bool fraction = row.mode->currentData().toString() == QLatin1String("fraction");
        const std::optional<double> v = parseNumber(text);
        if (!v)
            row.parseError =
                fraction ? tr("\u201c%1\u201d is not a number; allowed: a fraction in (0, 1]").arg(text)
                         : tr("\u201c%1\u201d is not a number; allowed: an integer >= 1").arg(text);
        else if (!fraction && !isWhole(*v))
            row.parseError =
                tr("%1 is not a whole number of clients; choose \u201cfraction\u201d for a share").arg(text);
        else {
            commit(row, QJsonObject{{fraction ? QStringLiteral("fraction") : QStringLiteral("count"), *v}});
            return;
        }
        showMessage(row);
        relayout();
        return;
    }
    default:
        return;
    }
}

void Inspector::commit(Row &row, const QJsonValue &value) {
    if (m_updating) return;
    const int gen = m_generation;
    row.parseError.clear();
    row.shown = value;
    if (row.kind == Kind::GroupSize) {
        // The group's count or fraction; with counts everywhere the population follows (groups must add up).
        QJsonObject clients = m_model->value(QStringLiteral("clients")).toObject();
        QJsonArray list = clients.value(QStringLiteral("groups")).toArray();
        if (row.group >= list.size()) return;
        QJsonObject g = list.at(row.group).toObject();
        const QJsonObject size = value.toObject();
        bool allCounts = true;
        for (qsizetype i = 0; i < list.size(); ++i)
            if (i != row.group && !list.at(i).toObject().contains(QStringLiteral("count"))) allCounts = false;
        const QJsonValue oldCount = g.value(QStringLiteral("count"));
        const QJsonValue newCount = size.value(QStringLiteral("count"));
        if (allCounts && oldCount.isDouble() && newCount.isDouble() &&
            !g.contains(QStringLiteral("fraction"))) {
            const double delta = newCount.toDouble() - oldCount.toDouble();
            const double total = m_model->effectiveValue(QStringLiteral("clients.count")).toDouble();
            if (total + delta >= 1) clients.insert(QStringLiteral("count"), total + delta);
        }
        g.remove(QStringLiteral("count"));
        g.remove(QStringLiteral("fraction"));
        for (auto it = size.begin(); it != size.end(); ++it)
            g.insert(it.key(), it.value());
        list.replace(row.group, g);
        clients.insert(QStringLiteral("groups"), list);
        m_model->setValue(QStringLiteral("clients"), clients,
                          tr("Set the size of group %1").arg(g.value(QStringLiteral("name")).toString()));
    } else {
        m_model->setValue(row.path, value);
    }
    if (gen != m_generation) return;
    // When the model did not change (the value it already had) no refresh comes: show the state here.
    if (shownValue(row) != row.shown) { // the model holds something else (normalized): show that
        m_updating = true;
        showValue(row);
        m_updating = false;
    }
    showMessage(row);
    relayout();
}

void Inspector::editingFinished(Row &row) {
    m_model->closeMergeWindow();
    if (row.parseError.isEmpty()) return;
    // Text that is no value of the field's type is not kept: the field shows the model's value again.
    m_updating = true;
    showValue(row);
    m_updating = false;
    showMessage(row);
}

bool Inspector::eventFilter(QObject *watched, QEvent *event) {
    if (event->type() == QEvent::FocusOut) {
        if (Row *row = rowOf(watched)) {
            if (row->kind == Kind::MultiLineText || row->kind == Kind::Choice ||
                row->kind == Kind::Component || row->kind == Kind::Check || watched == row->mode)
                m_model->closeMergeWindow();
        }
    }
    return QScrollArea::eventFilter(watched, event);
}

void Inspector::changeEvent(QEvent *event) {
    QScrollArea::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        const int gen = m_generation;
        QTimer::singleShot(0, this, [this, gen] {
            if (gen == m_generation) rebuild();
        });
    }
}

void Inspector::setPreflightProblem(bool ok, const QString &path, const QString &message) {
    m_preflight = ok ? SpecIssue{} : SpecIssue{path, message};
    refresh();
}

void Inspector::refresh() {
    // A group that went away (undo of "add group"): show the population instead.
    if (const int g = groupIndex(m_selection); g >= 0 && g >= explicitGroupCount(*m_model)) {
        m_selection = QStringLiteral("clients");
        rebuild();
        Q_EMIT selectionChanged(m_selection);
        return;
    }
    if (signature() != m_signature) {
        rebuild();
        return;
    }
    // The field being typed in keeps its text (and cursor) while the model holds what it shows.
    m_updating = true;
    for (Row *r : std::as_const(m_rows)) {
        const bool typing = r->editor->hasFocus() || (r->mode && r->mode->hasFocus());
        if (!typing || shownValue(*r) != r->shown) showValue(*r);
    }
    m_updating = false;
    for (Row *r : std::as_const(m_rows))
        showMessage(*r);
    if (const int g = groupIndex(m_selection); g >= 0) {
        if (auto *heading = m_page->findChild<QLabel *>(QStringLiteral("heading")))
            heading->setText(tr("Group \u201c%1\u201d")
                                 .arg(m_model->value(m_selection + QStringLiteral(".name")).toString()));
    }
    updateGroupList();
    updateSectionProblems();
    relayout();
}

// The labels' column: wide enough for every label on one line when the dock allows, else at most about
// a third of it (labels then wrap between words), never narrower than a label's longest word.
void Inspector::fitLabelColumn() {
    if (!m_grid) return;
    // Widths of the text as the label lays it out (a little more than the bare advance).
    const auto width = [](const QLabel *label, const QString &text) {
        return label->fontMetrics().boundingRect(QRect(0, 0, 10000, 1000), Qt::TextSingleLine, text).width() +
               4;
    };
    int natural = 0, longestWord = 0;
    for (const Row *r : std::as_const(m_rows)) {
        natural = std::max(natural, width(r->label, r->title));
        for (const QString &word : r->title.split(QLatin1Char(' '), Qt::SkipEmptyParts))
            longestWord = std::max(longestWord, width(r->label, word));
    }
    const int available = viewport()->width() - 20; // the page's margins
    const int column = std::max(longestWord, std::min(natural, available / 3));
    m_grid->setColumnMinimumWidth(0, column);
    for (Row *r : std::as_const(m_rows)) {
        r->label->setMinimumWidth(std::min(column, width(r->label, r->title)));
        r->label->setMaximumWidth(column);
    }
}

void Inspector::resizeEvent(QResizeEvent *event) {
    QScrollArea::resizeEvent(event);
    fitLabelColumn();
}

// Texts that changed their length (messages, the group list) get the height they need now.
void Inspector::relayout() {
    if (!m_page) return;
    for (QLayout *l : {static_cast<QLayout *>(m_grid), m_page->layout()})
        if (l) {
            l->invalidate();
            l->activate();
        }
}

void Inspector::updateGroupList() {
    const QList<FederationModel::Group> groups = m_model->groups();
    if (const int g = groupIndex(m_selection); g >= 0 && m_page) {
        if (auto *span = m_page->findChild<QLabel *>(QStringLiteral("groupSpan"))) {
            int first = 0;
            for (int i = 0; i < g && i < groups.size(); ++i)
                first += groups[i].count;
            const int total = int(m_model->effectiveValue(QStringLiteral("clients.count")).toDouble());
            span->setText(g < groups.size() && groups[g].count > 0
                              ? tr("Clients %1 to %2 of the %3 in the population.")
                                    .arg(first)
                                    .arg(first + groups[g].count - 1)
                                    .arg(total)
                              : tr("The groups do not add up to the population yet."));
        }
    }
    if (!m_groupList) return;
    QString html = QStringLiteral("<p>");
    const bool implicit = groups.size() == 1 && groups.first().implicit;
    for (qsizetype i = 0; i < groups.size(); ++i) {
        const FederationModel::Group &g = groups[i];
        const QString name = g.name.toHtmlEscaped();
        const QString shown =
            implicit ? name : QStringLiteral("<a href=\"%1\">%2</a>").arg(groupPath(int(i)), name);
        //: A client group in the list: its name (a link), its behaviour and its number of clients.
        html +=
            tr("%1 (%2): %3").arg(shown, g.behaviour.toHtmlEscaped()).arg(g.count) + QStringLiteral("<br>");
    }
    html +=
        QStringLiteral("</p><p><i>%1</i></p>")
            .arg((implicit ? tr("All clients are one group. Groups are added on the canvas (a behaviour from "
                                "the palette) and edited here when selected.")
                           : tr("Groups are added and removed on the canvas; click one to edit it."))
                     .toHtmlEscaped());
    m_groupList->setText(html);
}

void Inspector::updateSectionProblems() {
    if (!m_sectionProblems) return;
    // The errors and warnings of this selection that no field shows (cross-field rules on the section).
    QStringList shownPaths;
    for (const Row *r : std::as_const(m_rows)) {
        shownPaths.append(r->path);
        if (r->kind == Kind::GroupSize) {
            shownPaths.append(groupPath(r->group) + QStringLiteral(".count"));
            shownPaths.append(groupPath(r->group) + QStringLiteral(".fraction"));
        }
    }
    const int g = groupIndex(m_selection);
    const QString groupPrefix = QStringLiteral("group %1: ").arg(g + 1);
    const auto mine = [&](const SpecIssue &e) {
        if (shownPaths.contains(e.path)) return false;
        for (const QString &p : shownPaths)
            if (e.path.startsWith(p + QLatin1Char('.'))) return false;
        if (g >= 0 && e.path == kGroupsPath) return e.message.startsWith(groupPrefix);
        return e.path == m_selection || e.path.startsWith(m_selection + QLatin1Char('.')) ||
               e.path.startsWith(m_selection + QLatin1Char('['));
    };
    QStringList lines;
    for (const SpecIssue &e : m_model->errors())
        if (mine(e)) lines.append(e.text());
    if (!m_preflight.message.isEmpty() && mine(m_preflight))
        lines.append(tr("data pre-flight: %1").arg(m_preflight.text()));
    const int errors = int(lines.size());
    for (const SpecIssue &w : m_model->warnings())
        if (mine(w)) lines.append(tr("warning: %1").arg(w.text()));
    QPalette pal = m_sectionProblems->palette();
    pal.setColor(QPalette::WindowText, errors > 0 ? errorColour(palette()) : warningColour(palette()));
    m_sectionProblems->setPalette(pal);
    m_sectionProblems->setText(lines.join(QLatin1Char('\n')));
    m_sectionProblems->setVisible(!lines.isEmpty());
}

// ---------------------------------------------------------------------------------------------------------

ValidationPanel::ValidationPanel(FederationModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_summary(new QLabel(this))
    , m_list(new QListWidget(this)) {
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    m_summary->setObjectName(QStringLiteral("validationSummary"));
    m_summary->setWordWrap(true);
    m_list->setObjectName(QStringLiteral("validationList"));
    m_list->setWordWrap(true);
    m_list->setResizeMode(QListView::Adjust);
    m_list->setUniformItemSizes(false);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->setTextElideMode(Qt::ElideNone);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    layout->addWidget(m_summary);
    layout->addWidget(m_list, 1);
    connect(m_model, &FederationModel::validated, this, &ValidationPanel::refresh);
    connect(m_list, &QListWidget::itemActivated, this, &ValidationPanel::activate);
    connect(m_list, &QListWidget::itemClicked, this, &ValidationPanel::activate);
    refresh();
}

QStringList ValidationPanel::runBlockers() const {
    QStringList out;
    for (const SpecIssue &e : m_model->errors())
        out.append(e.text());
    if (!m_preflight.message.isEmpty()) out.append(tr("data pre-flight: %1").arg(m_preflight.text()));
    return out;
}

void ValidationPanel::setPreflightProblem(bool ok, const QString &path, const QString &message) {
    m_preflight = ok ? SpecIssue{} : SpecIssue{path, message};
    refresh();
}

QString ValidationPanel::runBlockedText() const {
    const QStringList blockers = runBlockers();
    if (blockers.isEmpty()) return {};
    QString text = tr("Run is disabled until these are fixed:");
    for (const QString &b : blockers)
        text += QStringLiteral("\n\u2022 ") + b;
    return text;
}

void ValidationPanel::refresh() {
    m_list->clear();
    const QPalette pal = palette();
    const qreal dpr = devicePixelRatioF();
    static const QRegularExpression groupMessage(QStringLiteral("^group (\\d+): "));
    const auto target = [](const SpecIssue &e) {
        const QRegularExpressionMatch m = groupMessage.match(e.message);
        if (e.path == QLatin1String("clients.groups") && m.hasMatch())
            return QStringLiteral("clients.groups[%1]").arg(m.captured(1).toInt() - 1);
        return e.path;
    };
    for (const SpecIssue &e : m_model->errors()) {
        auto *item = new QListWidgetItem(dotIcon(errorColour(pal), dpr), e.text(), m_list);
        item->setData(Qt::UserRole, target(e));
        item->setToolTip(tr("Error: %1").arg(e.text()));
    }
    if (!m_preflight.message.isEmpty()) {
        const QString text = tr("data pre-flight: %1").arg(m_preflight.text());
        auto *item = new QListWidgetItem(dotIcon(errorColour(pal), dpr), text, m_list);
        item->setData(Qt::UserRole, m_preflight.path);
        item->setToolTip(text);
    }
    for (const SpecIssue &w : m_model->warnings()) {
        auto *item =
            new QListWidgetItem(dotIcon(warningColour(pal), dpr), tr("warning: %1").arg(w.text()), m_list);
        item->setData(Qt::UserRole, target(w));
        item->setToolTip(tr("Warning: %1").arg(w.text()));
    }
    const int errors = int(m_model->errors().size()) + (m_preflight.message.isEmpty() ? 0 : 1);
    const int warnings = int(m_model->warnings().size());
    QPalette sp = m_summary->palette();
    if (errors > 0) {
        m_summary->setText(tr("Problems blocking Run: %1").arg(errors));
        sp.setColor(QPalette::WindowText, errorColour(pal));
    } else if (warnings > 0) {
        m_summary->setText(tr("Ready to run. Warnings: %1").arg(warnings));
        sp.setColor(QPalette::WindowText, warningColour(pal));
    } else {
        m_summary->setText(tr("Ready to run: no problems found."));
        sp.setColor(QPalette::WindowText, pal.color(QPalette::WindowText));
    }
    m_summary->setPalette(sp);
    m_list->setVisible(errors + warnings > 0);
}

void ValidationPanel::activate(QListWidgetItem *item) {
    if (item) Q_EMIT issueActivated(item->data(Qt::UserRole).toString());
}

void ValidationPanel::changeEvent(QEvent *event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) refresh();
}

} // namespace fedwb
