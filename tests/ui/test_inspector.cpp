// The designer's inspector, driven headless over the quickstart workspace: the forms come from the registry
// (checked here against the Registry itself, not against a list in the test), edits go through the model as
// the user types (one undo step per field), text that is no value is never written, values the schema
// rejects are written and shown in red with FederationSpec's message, and the validation panel leads to the
// field. Screenshots of a few pages, in a light and a dark palette, go to $FEDWB_SCREENSHOT_DIR (default
// /tmp/fedwb-inspector).
#include "designer/FederationModel.h"
#include "designer/Inspector.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyleFactory>
#include <QTest>
#include <QToolButton>
#include <QUndoStack>

#include <cmath>

using namespace fedwb;

namespace {

QJsonObject quickstart() {
    QFile f(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb"));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// Warnings Qt prints while the inspector builds and refreshes its pages (layout and connection problems).
QStringList g_warnings;
QtMessageHandler g_previousHandler = nullptr;

void collectWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message) {
    if (type == QtWarningMsg || type == QtCriticalMsg) g_warnings.append(message);
    if (g_previousHandler) g_previousHandler(type, context, message);
}

// What a user's choice in a combo box does: the index changes and activated() is emitted.
void choose(QComboBox *combo, const QString &data) {
    QVERIFY(combo);
    const int index = combo->findData(data);
    QVERIFY2(index >= 0, qPrintable(data));
    combo->setCurrentIndex(index);
    Q_EMIT combo->activated(index);
}

// The parameter paths a section's form must show, from the Registry: the component selector, the section's
// own keys (client groups are edited on the canvas), then the selected component's keys.
QStringList expectedSectionPaths(const QString &section, const QString &component) {
    const Registry &reg = Registry::global();
    const SectionSchema *s = reg.section(section);
    QStringList out;
    if (!s) return out;
    if (!s->category.isEmpty()) out.append(section + QStringLiteral(".name"));
    for (const ParamSchema &p : s->params)
        if (p.key != QLatin1String("name") && p.type != ParamType::GroupList)
            out.append(section + QLatin1Char('.') + p.key);
    if (const ComponentSchema *c = reg.component(s->category, component))
        for (const ParamSchema &p : c->params)
            if (!out.contains(section + QLatin1Char('.') + p.key))
                out.append(section + QLatin1Char('.') + p.key);
    return out;
}

bool isReddish(const QColor &c, const QColor &base) {
    return c.red() - c.green() > base.red() - base.green() + 12;
}

QString screenshotDir() {
    const QString dir = qEnvironmentVariableIsSet("FEDWB_SCREENSHOT_DIR")
                            ? qEnvironmentVariable("FEDWB_SCREENSHOT_DIR")
                            : QDir::tempPath() + QStringLiteral("/fedwb-inspector");
    QDir().mkpath(dir);
    return dir;
}

QPalette darkPalette() {
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x30));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
    p.setColor(QPalette::AlternateBase, QColor(0x32, 0x34, 0x38));
    p.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Button, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xdb));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x8c, 0x90));
    p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::ToolTipText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Link, QColor(0x6c, 0xa8, 0xff));
    p.setColor(QPalette::Light, QColor(0x50, 0x52, 0x56));
    p.setColor(QPalette::Midlight, QColor(0x45, 0x47, 0x4b));
    p.setColor(QPalette::Mid, QColor(0x30, 0x32, 0x35));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    return p;
}

} // namespace

class TestInspector : public QObject {
    Q_OBJECT

private:
    FederationModel m_model;
    Inspector *m_inspector = nullptr;

    QLineEdit *lineEdit(const QString &path) { return qobject_cast<QLineEdit *>(m_inspector->editor(path)); }
    QComboBox *combo(const QString &path) { return qobject_cast<QComboBox *>(m_inspector->editor(path)); }
    // Moves the keyboard focus to the selection's first field (the previous field loses it).
    void focusElsewhere(const QString &path) {
        QWidget *other = m_inspector->editor(path);
        QVERIFY(other);
        other->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(other->hasFocus());
    }
    // Every wrapped text of the page has the height it needs at its width, and every field its minimum.
    void verifyNothingCutOff(const QString &what) {
        QApplication::processEvents();
        for (QLabel *label : m_inspector->widget()->findChildren<QLabel *>()) {
            if (!label->isVisible() || !label->wordWrap()) continue;
            QVERIFY2(label->height() >= label->heightForWidth(label->width()),
                     qPrintable(what + QStringLiteral(": ") + label->objectName() + QLatin1Char(' ') +
                                label->text().left(60)));
        }
        if (m_inspector->width() < 400) return; // narrower, fields may shrink below their longest text
        for (const QString &path : m_inspector->editorPaths()) {
            QWidget *w = m_inspector->editor(path);
            QVERIFY2(w->width() >= w->minimumSizeHint().width() &&
                         w->height() >= w->minimumSizeHint().height(),
                     qPrintable(what + QStringLiteral(": ") + path));
        }
    }
    void type(QLineEdit *edit, const QString &text) {
        QVERIFY(edit);
        edit->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(edit->hasFocus());
        edit->selectAll();
        QTest::keyClicks(edit, text);
    }

private Q_SLOTS:
    void initTestCase() {
        registerBuiltins();
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        g_previousHandler = qInstallMessageHandler(collectWarnings);
        QVERIFY(!quickstart().isEmpty());
    }

    void init() {
        m_model.reset(quickstart());
        QVERIFY(m_model.isValid());
        m_inspector = new Inspector(&m_model);
        m_inspector->resize(420, 900);
        m_inspector->show();
        QApplication::setActiveWindow(m_inspector);
        QVERIFY(QTest::qWaitForWindowActive(m_inspector));
        g_warnings.clear();
    }

    void cleanup() {
        delete m_inspector;
        m_inspector = nullptr;
        QVERIFY2(g_warnings.isEmpty(), qPrintable(g_warnings.join(QLatin1Char('\n'))));
    }

    void cleanupTestCase() { qInstallMessageHandler(g_previousHandler); }

    void nodeIdsMapToSelections() {
        m_model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("attackers")}});
        const auto map = [&](const QString &id) { return Inspector::selectionForNode(m_model, id); };
        QCOMPARE(map(QStringLiteral("dataset")), QStringLiteral("dataset"));
        QCOMPARE(map(QStringLiteral("partition")), QStringLiteral("partition"));
        QCOMPARE(map(QStringLiteral("clients")), QStringLiteral("clients"));
        QCOMPARE(map(QStringLiteral("model")), QStringLiteral("model"));
        QCOMPARE(map(QStringLiteral("training")), QStringLiteral("training"));
        QCOMPARE(map(QStringLiteral("server")), QStringLiteral("strategy"));
        QCOMPARE(map(QStringLiteral("strategy")), QStringLiteral("strategy"));
        QCOMPARE(map(QStringLiteral("stage:privacy")), QStringLiteral("privacy"));
        QCOMPARE(map(QStringLiteral("stage:secure_aggregation")), QStringLiteral("secure_aggregation"));
        QCOMPARE(map(QStringLiteral("group:clients")), QStringLiteral("clients.groups[0]"));
        QCOMPARE(map(QStringLiteral("group:attackers")), QStringLiteral("clients.groups[1]"));
        QCOMPARE(map(QStringLiteral("clients.groups[1].behaviour.scale")),
                 QStringLiteral("clients.groups[1]"));
        QCOMPARE(map(QStringLiteral("partition.alpha")), QStringLiteral("partition"));
        QCOMPARE(map(QStringLiteral("group:nobody")), QString());
        QCOMPARE(map(QStringLiteral("stage:nothing")), QString());
        // Without explicit groups the canvas' one group is the population.
        m_model.reset(quickstart());
        QCOMPARE(map(QStringLiteral("group:clients")), QStringLiteral("clients"));
        QCOMPARE(map(QStringLiteral("clients.groups[0]")), QStringLiteral("clients"));

        QSignalSpy selected(m_inspector, &Inspector::selectionChanged);
        m_inspector->setSelection(QStringLiteral("server"));
        QCOMPARE(m_inspector->selection(), QStringLiteral("strategy"));
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected.at(0).at(0).toString(), QStringLiteral("strategy"));
    }

    void partitionShowsEveryPartitionerAndAlpha() {
        const Registry &reg = Registry::global();
        m_inspector->setSelection(QStringLiteral("partition"));
        QCOMPARE(m_inspector->editorPaths(),
                 expectedSectionPaths(QStringLiteral("partition"), QStringLiteral("dirichlet")));

        QComboBox *partitioners = combo(QStringLiteral("partition.name"));
        QVERIFY(partitioners);
        QStringList names, titles;
        for (int i = 0; i < partitioners->count(); ++i) {
            names.append(partitioners->itemData(i).toString());
            titles.append(partitioners->itemText(i));
        }
        QCOMPARE(names, reg.componentNames(QStringLiteral("partitioner")));
        QStringList expectedTitles;
        for (const QString &n : names)
            expectedTitles.append(reg.component(QStringLiteral("partitioner"), n)->title);
        QCOMPARE(titles, expectedTitles);
        QCOMPARE(partitioners->currentData().toString(), QStringLiteral("dirichlet"));
        QCOMPARE(partitioners->itemData(partitioners->currentIndex(), Qt::ToolTipRole).toString(),
                 reg.component(QStringLiteral("partitioner"), QStringLiteral("dirichlet"))->help);

        const ParamSchema *alphaSchema = m_model.paramSchema(QStringLiteral("partition.alpha"));
        QVERIFY(alphaSchema);
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        QVERIFY(alpha);
        QCOMPARE(alpha->text(), QStringLiteral("0.5"));
        // The tooltip: help, the range the schema allows, the default.
        QVERIFY(alpha->toolTip().contains(alphaSchema->help.toHtmlEscaped()));
        QVERIFY(alpha->toolTip().contains(alphaSchema->allowedText()));
        QVERIFY2(alpha->toolTip().contains(QStringLiteral("Default: 0.5")), qPrintable(alpha->toolTip()));
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.alpha")).isEmpty());
        // Set in the file: the reset button shows.
        QVERIFY(m_inspector->resetButton(QStringLiteral("partition.alpha"))->isVisible());

        // The explanation opens below the field.
        QToolButton *explain = m_inspector->explanationButton(QStringLiteral("partition.alpha"));
        QVERIFY(explain && explain->isVisible());
        auto *text = m_inspector->findChild<QLabel *>(QStringLiteral("explanation:partition.alpha"));
        QVERIFY(text);
        QVERIFY(!text->isVisible());
        QTest::mouseClick(explain, Qt::LeftButton);
        QVERIFY(text->isVisible());
        QCOMPARE(text->text(), alphaSchema->explanation);

        // Integers with a range: a spin box with the range, the unit as suffix.
        auto *minSamples =
            qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("partition.min_samples")));
        QVERIFY(minSamples);
        const ParamSchema *ms = m_model.paramSchema(QStringLiteral("partition.min_samples"));
        QCOMPARE(minSamples->minimum(), int(ms->min));
        QCOMPARE(minSamples->maximum(), int(ms->max));
        QCOMPARE(minSamples->suffix(), QLatin1Char(' ') + ms->unit);
        QCOMPARE(minSamples->value(), 50);
        // Not set in the file: the default is shown, no reset button.
        QLineEdit *seed = lineEdit(QStringLiteral("partition.seed"));
        QVERIFY(seed); // [-1, 2^32 - 1] does not fit a spin box
        QVERIFY(seed->text().isEmpty());
        QVERIFY(seed->placeholderText().contains(QStringLiteral("default")));
        QVERIFY(seed->font().italic());
        QVERIFY(!m_inspector->resetButton(QStringLiteral("partition.seed"))->isVisible());
    }

    void typingIsOneUndoStepPerField() {
        m_inspector->setSelection(QStringLiteral("partition"));
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        QSignalSpy changed(&m_model, &FederationModel::changed);
        type(alpha, QStringLiteral("0.3"));
        QCOMPARE(m_model.value(QStringLiteral("partition.alpha")).toDouble(), 0.3);
        QVERIFY(changed.count() >= 2); // written as the user typed: "0", "0.3"
        QCOMPARE(m_model.undoStack()->count(), 1);
        QVERIFY(m_model.isValid());
        QCOMPARE(alpha->text(), QStringLiteral("0.3"));
        QVERIFY(alpha->hasFocus());

        // Another field takes the focus: the next edit of alpha is a step of its own.
        focusElsewhere(QStringLiteral("partition.test_fraction"));
        type(alpha, QStringLiteral("0.25"));
        QCOMPARE(m_model.undoStack()->count(), 2);
        QCOMPARE(m_model.value(QStringLiteral("partition.alpha")).toDouble(), 0.25);

        // Undo restores what the editor shows, also while it has the focus.
        m_model.undoStack()->undo();
        QCOMPARE(alpha->text(), QStringLiteral("0.3"));
        m_model.undoStack()->undo();
        QCOMPARE(alpha->text(), QStringLiteral("0.5"));
        QCOMPARE(m_model.raw(), quickstart());
        m_model.undoStack()->redo();
        QCOMPARE(alpha->text(), QStringLiteral("0.3"));

        // A spin box: every step is written, one undo step for the field.
        auto *spin = qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("partition.min_samples")));
        spin->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(spin->hasFocus());
        const int before = m_model.undoStack()->index();
        QTest::keyClick(spin, Qt::Key_Up);
        QTest::keyClick(spin, Qt::Key_Up);
        QCOMPARE(m_model.value(QStringLiteral("partition.min_samples")).toInt(), 52);
        QCOMPARE(m_model.undoStack()->index(), before + 1);
    }

    void typingKeepsTheCursorWhenTheModelChangesElsewhere() {
        m_inspector->setSelection(QStringLiteral("partition"));
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        type(alpha, QStringLiteral("0.30"));
        QCOMPARE(m_model.value(QStringLiteral("partition.alpha")).toDouble(), 0.3);
        alpha->setCursorPosition(2);
        // The canvas (or anything else) edits another value: the field being typed in is left alone.
        m_model.setValue(QStringLiteral("partition.min_samples"), 60);
        QCOMPARE(alpha->text(), QStringLiteral("0.30"));
        QCOMPARE(alpha->cursorPosition(), 2);
        QVERIFY(alpha->hasFocus());
        auto *spin = qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("partition.min_samples")));
        QCOMPARE(spin->value(), 60);
        // Switching the partitioner rebuilds the page; the focus stays in the inspector.
        QComboBox *partitioners = combo(QStringLiteral("partition.name"));
        partitioners->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(partitioners->hasFocus());
        choose(partitioners, QStringLiteral("shards"));
        QVERIFY(m_inspector->editor(QStringLiteral("partition.shards_per_client")));
        QVERIFY(!m_inspector->editor(QStringLiteral("partition.alpha")));
        QTRY_VERIFY(m_inspector->editor(QStringLiteral("partition.name"))->hasFocus());
    }

    void anOutOfRangeValueIsWrittenAndShownInRed() {
        m_inspector->setSelection(QStringLiteral("partition"));
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        const QColor base = alpha->palette().color(QPalette::Base);
        type(alpha, QStringLiteral("-1"));
        QCOMPARE(m_model.value(QStringLiteral("partition.alpha")).toDouble(), -1.0);
        QVERIFY(!m_model.isValid());
        // The message is FederationSpec's own for the workspace as it now is.
        QJsonObject raw = quickstart();
        raw = FederationModel::withValueAt(raw, QStringLiteral("partition.alpha"), -1).toObject();
        const FederationSpec::Parsed parsed = FederationSpec::parse(raw);
        QStringList expected;
        for (const SpecIssue &e : parsed.errors)
            if (e.path == QLatin1String("partition.alpha")) expected.append(e.message);
        QCOMPARE(expected.size(), 1);
        QCOMPARE(m_inspector->messageAt(QStringLiteral("partition.alpha")), expected.first());
        auto *message = m_inspector->findChild<QLabel *>(QStringLiteral("message:partition.alpha"));
        QVERIFY(message && message->isVisible());
        QVERIFY(isReddish(message->palette().color(QPalette::WindowText),
                          QApplication::palette().color(QPalette::WindowText)));
        QVERIFY(isReddish(alpha->palette().color(QPalette::Base), base));
        // Losing the focus keeps a value that was written (the model's validation lists it).
        focusElsewhere(QStringLiteral("partition.test_fraction"));
        QCOMPARE(alpha->text(), QStringLiteral("-1"));
        QCOMPARE(m_inspector->messageAt(QStringLiteral("partition.alpha")), expected.first());
        // Fixing it clears the message and the colour.
        type(alpha, QStringLiteral("2"));
        QVERIFY(m_model.isValid());
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.alpha")).isEmpty());
        QCOMPARE(alpha->palette().color(QPalette::Base), base);
    }

    void textThatIsNoNumberIsNotWritten() {
        m_inspector->setSelection(QStringLiteral("partition"));
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        const QJsonObject before = m_model.raw();
        type(alpha, QStringLiteral("abc"));
        QCOMPARE(m_model.raw(), before);
        QCOMPARE(m_model.undoStack()->count(), 0);
        QVERIFY(m_model.isValid());
        const ParamSchema *schema = m_model.paramSchema(QStringLiteral("partition.alpha"));
        QCOMPARE(m_inspector->messageAt(QStringLiteral("partition.alpha")),
                 schema->check(QStringLiteral("abc")));
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.alpha")).contains(schema->allowedText()));
        QVERIFY(
            isReddish(alpha->palette().color(QPalette::Base), QApplication::palette().color(QPalette::Base)));
        // Leaving the field brings back the model's value.
        focusElsewhere(QStringLiteral("partition.test_fraction"));
        QCOMPARE(alpha->text(), QStringLiteral("0.5"));
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.alpha")).isEmpty());
        QCOMPARE(m_model.raw(), before);

        // An integer field does not take a fraction either: "2" was a value as it was typed, "2.5" is not.
        QLineEdit *seed = lineEdit(QStringLiteral("partition.seed"));
        type(seed, QStringLiteral("2.5"));
        QCOMPARE(m_model.value(QStringLiteral("partition.seed")).toInt(), 2);
        QVERIFY(
            m_inspector->messageAt(QStringLiteral("partition.seed")).contains(QStringLiteral("an integer")));
        focusElsewhere(QStringLiteral("partition.test_fraction"));
        QCOMPARE(seed->text(), QStringLiteral("2"));
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.seed")).isEmpty());
    }

    void resetRemovesTheKey() {
        m_inspector->setSelection(QStringLiteral("partition"));
        QVERIFY(m_model.isSet(QStringLiteral("partition.alpha")));
        QToolButton *reset = m_inspector->resetButton(QStringLiteral("partition.alpha"));
        QVERIFY(reset && reset->isVisible());
        QTest::mouseClick(reset, Qt::LeftButton);
        QVERIFY(!m_model.isSet(QStringLiteral("partition.alpha")));
        QCOMPARE(m_model.effectiveValue(QStringLiteral("partition.alpha")).toDouble(), 0.5);
        QLineEdit *alpha = lineEdit(QStringLiteral("partition.alpha"));
        QVERIFY(alpha->text().isEmpty());
        QVERIFY(alpha->placeholderText().contains(QStringLiteral("0.5")));
        QVERIFY(alpha->font().italic());
        QVERIFY(!m_inspector->resetButton(QStringLiteral("partition.alpha"))->isVisible());
        QCOMPARE(m_model.undoStack()->count(), 1);
        m_model.undoStack()->undo();
        QCOMPARE(alpha->text(), QStringLiteral("0.5"));
        QVERIFY(!alpha->font().italic());

        // Emptying a field is the same as resetting it.
        type(alpha, QStringLiteral("0.7"));
        alpha->selectAll();
        QTest::keyClick(alpha, Qt::Key_Backspace);
        QVERIFY(!m_model.isSet(QStringLiteral("partition.alpha")));
        // A check box and a combo box reset as well.
        m_inspector->setSelection(QStringLiteral("training"));
        auto *nesterov = qobject_cast<QCheckBox *>(m_inspector->editor(QStringLiteral("training.nesterov")));
        QVERIFY(nesterov && !nesterov->isChecked());
        QTest::mouseClick(nesterov, Qt::LeftButton);
        QCOMPARE(m_model.value(QStringLiteral("training.nesterov")).toBool(), true);
        QTest::mouseClick(m_inspector->resetButton(QStringLiteral("training.nesterov")), Qt::LeftButton);
        QVERIFY(!m_model.isSet(QStringLiteral("training.nesterov")));
        QVERIFY(!nesterov->isChecked());
        choose(combo(QStringLiteral("training.optimizer")), QStringLiteral("adam"));
        QCOMPARE(m_model.value(QStringLiteral("training.optimizer")).toString(), QStringLiteral("adam"));
        QTest::mouseClick(m_inspector->resetButton(QStringLiteral("training.optimizer")), Qt::LeftButton);
        QVERIFY(!m_model.isSet(QStringLiteral("training.optimizer")));
        QCOMPARE(combo(QStringLiteral("training.optimizer"))->currentData().toString(),
                 QStringLiteral("sgd"));
    }

    void everyStrategyShowsExactlyItsParameters() {
        const Registry &reg = Registry::global();
        m_inspector->setSelection(QStringLiteral("strategy"));
        for (const QString &name : reg.componentNames(QStringLiteral("strategy"))) {
            choose(combo(QStringLiteral("strategy.name")), name);
            QCOMPARE(m_model.value(QStringLiteral("strategy.name")).toString(), name);
            QCOMPARE(m_inspector->editorPaths(), expectedSectionPaths(QStringLiteral("strategy"), name));
            // Each editor shows its schema's default (none of these is set).
            for (const ParamSchema &p : reg.component(QStringLiteral("strategy"), name)->params) {
                QWidget *w = m_inspector->editor(QStringLiteral("strategy.") + p.key);
                QVERIFY2(w, qPrintable(p.key));
                if (auto *e = qobject_cast<QLineEdit *>(w)) {
                    QVERIFY(e->text().isEmpty());
                    QVERIFY2(
                        e->placeholderText().contains(QString::number(p.defaultValue.toDouble(), 'g', 12)) ||
                            !p.zeroText.isEmpty(),
                        qPrintable(e->placeholderText()));
                } else if (auto *s = qobject_cast<QSpinBox *>(w)) {
                    QCOMPARE(s->value(), p.defaultValue.toInt());
                } else if (auto *c = qobject_cast<QComboBox *>(w)) {
                    QCOMPARE(c->currentData().toString(), p.defaultValue.toString());
                }
            }
        }
        // Undo goes back through the choices; the form follows.
        m_model.undoStack()->undo();
        const QStringList names = reg.componentNames(QStringLiteral("strategy"));
        const QString previous = names.at(names.size() - 2);
        QCOMPARE(combo(QStringLiteral("strategy.name"))->currentData().toString(), previous);
        QCOMPARE(m_inspector->editorPaths(), expectedSectionPaths(QStringLiteral("strategy"), previous));
    }

    void krumShowsItsCrossFieldError() {
        m_inspector->setSelection(QStringLiteral("strategy"));
        choose(combo(QStringLiteral("strategy.name")), QStringLiteral("krum"));
        auto *byzantine = qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("strategy.byzantine")));
        QVERIFY(byzantine);
        QVERIFY(m_model.isValid()); // 5 per round >= 2 * 1 + 3
        byzantine->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(byzantine->hasFocus());
        QTest::keyClick(byzantine, Qt::Key_Up);
        QCOMPARE(m_model.value(QStringLiteral("strategy.byzantine")).toInt(), 2);
        QVERIFY(!m_model.isValid());
        QCOMPARE(m_inspector->messageAt(QStringLiteral("strategy.byzantine")),
                 m_model.errorsAt(QStringLiteral("strategy.byzantine")).join(QLatin1Char('\n')));
        QVERIFY(m_inspector->messageAt(QStringLiteral("strategy.byzantine"))
                    .contains(QStringLiteral("clients.per_round")));
    }

    void groupShowsItsBehaviourAndPrivacy() {
        const int index = m_model.addGroup(
            QJsonObject{{QStringLiteral("name"), QStringLiteral("attackers")},
                        {QStringLiteral("count"), 4},
                        {QStringLiteral("behaviour"),
                         QJsonObject{{QStringLiteral("name"), QStringLiteral("sign-flip")}}}});
        QCOMPARE(index, 1);
        QVERIFY2(m_model.isValid(), qPrintable(m_model.validationText()));
        m_inspector->setSelection(QStringLiteral("group:attackers"));
        const QString g = QStringLiteral("clients.groups[1]");
        QCOMPARE(m_inspector->selection(), g);
        const ComponentSchema *signFlip =
            Registry::global().component(QStringLiteral("behaviour"), QStringLiteral("sign-flip"));
        QStringList expected{g + QStringLiteral(".name"), g + QStringLiteral(".size"),
                             g + QStringLiteral(".epochs"), g + QStringLiteral(".behaviour.name")};
        for (const ParamSchema &p : signFlip->params)
            expected.append(g + QStringLiteral(".behaviour.") + p.key);
        QCOMPARE(m_inspector->editorPaths(), expected);
        QCOMPARE(lineEdit(g + QStringLiteral(".name"))->text(), QStringLiteral("attackers"));
        QCOMPARE(lineEdit(g + QStringLiteral(".size"))->text(), QStringLiteral("4"));
        // Epochs not set: training.epochs is what the group's clients use.
        auto *epochs = qobject_cast<QSpinBox *>(m_inspector->editor(g + QStringLiteral(".epochs")));
        QVERIFY(epochs);
        QCOMPARE(epochs->value(), m_model.effectiveValue(QStringLiteral("training.epochs")).toInt());
        QVERIFY(epochs->toolTip().contains(QStringLiteral("training.epochs")));

        // The behaviour combo lists every registered behaviour; dropout brings its probability.
        QComboBox *behaviour = combo(g + QStringLiteral(".behaviour.name"));
        QCOMPARE(behaviour->count(), Registry::global().componentNames(QStringLiteral("behaviour")).size());
        choose(behaviour, QStringLiteral("dropout"));
        QCOMPARE(m_model.value(g + QStringLiteral(".behaviour.name")).toString(), QStringLiteral("dropout"));
        QVERIFY(m_inspector->editor(g + QStringLiteral(".behaviour.probability")));
        QVERIFY(!m_inspector->editor(g + QStringLiteral(".behaviour.scale")));
        QCOMPARE(lineEdit(g + QStringLiteral(".behaviour.probability"))->placeholderText(),
                 QStringLiteral("0.5 (default)"));

        // The group's size: with counts everywhere, the population follows.
        const int total = m_model.effectiveValue(QStringLiteral("clients.count")).toInt();
        type(lineEdit(g + QStringLiteral(".size")), QStringLiteral("6"));
        QCOMPARE(m_model.value(g + QStringLiteral(".count")).toInt(), 6);
        QCOMPARE(m_model.value(QStringLiteral("clients.count")).toInt(), total + 2);
        QVERIFY2(m_model.isValid(), qPrintable(m_model.validationText()));
        // As a fraction.
        choose(combo(g + QStringLiteral(".size:mode")), QStringLiteral("fraction"));
        QVERIFY(!m_model.isSet(g + QStringLiteral(".count")));
        QVERIFY(m_model.value(g + QStringLiteral(".fraction")).toDouble() > 0);

        // Local privacy: the group's own clip norm and noise, the section's values as defaults.
        QVERIFY(!m_inspector->editor(g + QStringLiteral(".privacy.clip_norm")));
        m_model.setValue(QStringLiteral("privacy.mode"), QStringLiteral("local"));
        QCOMPARE(m_inspector->selection(), g);
        QLineEdit *clip = lineEdit(g + QStringLiteral(".privacy.clip_norm"));
        QVERIFY(clip && lineEdit(g + QStringLiteral(".privacy.noise_multiplier")));
        QVERIFY(clip->placeholderText().contains(QStringLiteral("privacy.clip_norm")));
        type(clip, QStringLiteral("0.5"));
        QCOMPARE(m_model.value(g + QStringLiteral(".privacy.clip_norm")).toDouble(), 0.5);

        // Removing the group (undo of its addition) shows the population.
        QSignalSpy selected(m_inspector, &Inspector::selectionChanged);
        m_model.removeGroups({1});
        QCOMPARE(m_inspector->selection(), QStringLiteral("clients"));
        QCOMPARE(selected.count(), 1);
    }

    void everySectionAndComponentRenders() {
        // Every registered section with every component of its category, and a group with every behaviour:
        // each parameter gets the editor of its type, and nothing makes Qt warn.
        const Registry &reg = Registry::global();
        const auto checkEditors = [&](const QStringList &paths) {
            for (const QString &path : paths) {
                const ParamSchema *p = m_model.paramSchema(path);
                QVERIFY2(p, qPrintable(path));
                QWidget *w = m_inspector->editor(path);
                QVERIFY2(w, qPrintable(path));
                switch (p->type) {
                case ParamType::Integer:
                    QVERIFY2(qobject_cast<QSpinBox *>(w) || qobject_cast<QLineEdit *>(w), qPrintable(path));
                    if (p->max <= 1e9) QVERIFY2(qobject_cast<QSpinBox *>(w), qPrintable(path));
                    break;
                case ParamType::Real:
                case ParamType::String:
                    QVERIFY2(qobject_cast<QLineEdit *>(w), qPrintable(path));
                    break;
                case ParamType::Boolean:
                    QVERIFY2(qobject_cast<QCheckBox *>(w), qPrintable(path));
                    break;
                case ParamType::Choice:
                    QVERIFY2(qobject_cast<QComboBox *>(w), qPrintable(path));
                    break;
                case ParamType::CountOrFraction:
                    QVERIFY2(qobject_cast<QLineEdit *>(w), qPrintable(path));
                    QVERIFY(qobject_cast<QComboBox *>(m_inspector->editor(path + QStringLiteral(":mode"))));
                    break;
                case ParamType::GroupList:
                    QVERIFY2(!w, qPrintable(path));
                    break;
                }
                // Every parameter has its explanation one click away.
                if (!p->explanation.isEmpty() && !path.endsWith(QLatin1String(".name")))
                    QVERIFY2(m_inspector->explanationButton(path) &&
                                 !m_inspector->explanationButton(path)->isHidden(),
                             qPrintable(path));
            }
        };
        for (const SectionSchema &s : reg.sections()) {
            m_model.reset(quickstart());
            m_inspector->setSelection(s.key);
            QCOMPARE(m_inspector->selection(), s.key);
            QVERIFY(!m_inspector->grab().isNull());
            const QStringList components =
                s.category.isEmpty() ? QStringList{QString()} : reg.componentNames(s.category);
            for (const QString &c : components) {
                if (!c.isEmpty()) choose(combo(s.key + QStringLiteral(".name")), c);
                QStringList paths;
                for (const QString &p : m_model.parameterPaths(s.key))
                    if (m_model.paramSchema(p)->type != ParamType::GroupList) paths.append(p);
                QCOMPARE(m_inspector->editorPaths(), paths);
                QCOMPARE(paths, expectedSectionPaths(s.key, c));
                checkEditors(paths);
                QVERIFY(!m_inspector->grab().isNull());
                verifyNothingCutOff(s.key + QLatin1Char(' ') + c);
            }
        }
        m_model.reset(quickstart());
        m_model.setValue(QStringLiteral("privacy.mode"), QStringLiteral("local"));
        m_model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("g")}});
        m_inspector->setSelection(QStringLiteral("clients.groups[1]"));
        for (const QString &b : reg.componentNames(QStringLiteral("behaviour"))) {
            choose(combo(QStringLiteral("clients.groups[1].behaviour.name")), b);
            QStringList paths = m_model.parameterPaths(QStringLiteral("clients.groups[1].behaviour"));
            for (const QString &key : groupPrivacyOverrides())
                paths.append(QStringLiteral("clients.groups[1].privacy.") + key);
            checkEditors(paths);
            for (const QString &p : paths)
                QVERIFY2(m_inspector->editorPaths().contains(p), qPrintable(p));
            QVERIFY(!m_inspector->grab().isNull());
            verifyNothingCutOff(b);
        }
        // The workspace itself.
        m_inspector->setSelection(QString());
        QCOMPARE(m_inspector->editorPaths(),
                 (QStringList{QStringLiteral("name"), QStringLiteral("description")}));
    }

    void workspaceNameAndDescription() {
        m_inspector->setSelection(QString());
        QLineEdit *name = lineEdit(QStringLiteral("name"));
        QVERIFY(name);
        QCOMPARE(name->text(), quickstart().value(QStringLiteral("name")).toString());
        type(name, QStringLiteral("Mine"));
        QCOMPARE(m_model.value(QStringLiteral("name")).toString(), QStringLiteral("Mine"));
        QCOMPARE(m_model.undoStack()->count(), 1);
        auto *description =
            qobject_cast<QPlainTextEdit *>(m_inspector->editor(QStringLiteral("description")));
        QVERIFY(description);
        QCOMPARE(description->toPlainText(), quickstart().value(QStringLiteral("description")).toString());
        description->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(description->hasFocus());
        description->selectAll();
        QTest::keyClicks(description, QStringLiteral("Two words"));
        QCOMPARE(m_model.value(QStringLiteral("description")).toString(), QStringLiteral("Two words"));
        QCOMPARE(m_model.undoStack()->count(), 2);
        // The section links open a section.
        auto *links = m_inspector->findChild<QLabel *>(QStringLiteral("sectionLinks"));
        QVERIFY(links);
        QMetaObject::invokeMethod(links, "linkActivated", Q_ARG(QString, QStringLiteral("privacy")));
        QTRY_COMPARE(m_inspector->selection(), QStringLiteral("privacy"));
    }

    void tabOrderFollowsTheRows() {
        m_inspector->setSelection(QStringLiteral("training"));
        QWidget *first = m_inspector->editor(QStringLiteral("training.epochs"));
        first->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(first->hasFocus());
        // Tab from one editor goes through its row's buttons to the next row's editor.
        QStringList visited;
        QWidget *w = first;
        for (int i = 0; i < 40 && visited.size() < 8; ++i) {
            w = w->nextInFocusChain();
            if (!(w->focusPolicy() & Qt::TabFocus) || !w->isVisibleTo(m_inspector) || !w->isEnabled())
                continue;
            const QString name = w->objectName();
            if (name.startsWith(QLatin1String("training."))) visited.append(name);
        }
        QCOMPARE(visited.mid(0, 4),
                 (QStringList{QStringLiteral("training.batch_size"), QStringLiteral("training.optimizer"),
                              QStringLiteral("training.lr"), QStringLiteral("training.lr_decay")}));
        // A component's "What is ...?" comes right after its combo, before the next row.
        m_inspector->setSelection(QStringLiteral("partition"));
        QWidget *at = m_inspector->editor(QStringLiteral("partition.name"));
        QStringList next;
        for (int i = 0; i < 40 && next.size() < 2; ++i) {
            at = at->nextInFocusChain();
            if ((at->focusPolicy() & Qt::TabFocus) && at->isVisibleTo(m_inspector) && at->isEnabled() &&
                !at->objectName().startsWith(QLatin1String("qt_")))
                next.append(at->objectName());
        }
        QCOMPARE(next, (QStringList{QStringLiteral("disclosure"), QStringLiteral("partition.min_samples")}));
    }

    void validationPanelListsProblemsAndLeadsToTheField() {
        ValidationPanel panel(&m_model);
        connect(&panel, &ValidationPanel::issueActivated, m_inspector, &Inspector::focusPath);
        QVERIFY(panel.runBlockers().isEmpty());
        QVERIFY(panel.runBlockedText().isEmpty());
        m_model.setValue(QStringLiteral("partition.alpha"), -1);
        m_model.setValue(QStringLiteral("training.lr"), 0);
        QCOMPARE(panel.runBlockers().size(), m_model.errors().size());
        QCOMPARE(panel.runBlockers().size(), 2);
        QVERIFY(panel.runBlockedText().contains(QStringLiteral("partition.alpha")));
        QCOMPARE(panel.list()->count(), 2);
        QListWidgetItem *lr = nullptr;
        for (int i = 0; i < panel.list()->count(); ++i)
            if (panel.list()->item(i)->text().startsWith(QLatin1String("training.lr")))
                lr = panel.list()->item(i);
        QVERIFY(lr);
        QSignalSpy activated(&panel, &ValidationPanel::issueActivated);
        Q_EMIT panel.list()->itemClicked(lr);
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("training.lr"));
        QCOMPARE(m_inspector->selection(), QStringLiteral("training"));
        QTRY_VERIFY(m_inspector->editor(QStringLiteral("training.lr"))->hasFocus());
        QVERIFY(!m_inspector->messageAt(QStringLiteral("training.lr")).isEmpty());

        // A group's shape problem names the group.
        m_model.reset(quickstart());
        m_model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("b")}});
        m_model.setValue(QStringLiteral("clients.groups[1].fraction"), 0.5); // count and fraction
        bool found = false;
        for (int i = 0; i < panel.list()->count(); ++i) {
            if (panel.list()->item(i)->data(Qt::UserRole).toString() == QLatin1String("clients.groups[1]")) {
                found = true;
                Q_EMIT panel.list()->itemActivated(panel.list()->item(i));
            }
        }
        QVERIFY2(found, qPrintable(m_model.validationText()));
        QCOMPARE(m_inspector->selection(), QStringLiteral("clients.groups[1]"));
        auto *problems = m_inspector->findChild<QLabel *>(QStringLiteral("sectionProblems"));
        QVERIFY(problems && problems->isVisible());
        QVERIFY(problems->text().contains(QStringLiteral("count or fraction")));
        m_model.reset(quickstart());
        QVERIFY(panel.runBlockers().isEmpty());
    }

    void aFailedPreflightIsShownAtItsField() {
        // What PartitionPreview::preflightChanged reports when the data cannot be split as asked.
        ValidationPanel panel(&m_model);
        const QString message =
            QStringLiteral("20 clients x 5000 samples need 100000 samples; the training "
                           "pool has 60000. Allowed here: at most 3000 (or fewer clients)");
        m_inspector->setSelection(QStringLiteral("partition"));
        m_inspector->setPreflightProblem(false, QStringLiteral("partition.min_samples"), message);
        panel.setPreflightProblem(false, QStringLiteral("partition.min_samples"), message);
        QCOMPARE(m_inspector->messageAt(QStringLiteral("partition.min_samples")), message);
        QVERIFY(isReddish(
            m_inspector->editor(QStringLiteral("partition.min_samples"))->palette().color(QPalette::Base),
            QApplication::palette().color(QPalette::Base)));
        QCOMPARE(panel.runBlockers().size(), 1);
        QVERIFY(panel.runBlockers().first().contains(message));
        QCOMPARE(panel.list()->count(), 1);
        QCOMPARE(panel.list()->item(0)->data(Qt::UserRole).toString(),
                 QStringLiteral("partition.min_samples"));
        // Another selection keeps it; a passing pre-flight clears it everywhere.
        m_inspector->setSelection(QStringLiteral("training"));
        m_inspector->setSelection(QStringLiteral("partition"));
        QCOMPARE(m_inspector->messageAt(QStringLiteral("partition.min_samples")), message);
        m_inspector->setPreflightProblem(true, {}, {});
        panel.setPreflightProblem(true, {}, {});
        QVERIFY(m_inspector->messageAt(QStringLiteral("partition.min_samples")).isEmpty());
        QVERIFY(panel.runBlockers().isEmpty());
        // A path without a field of its own is listed among the selection's problems.
        m_inspector->setPreflightProblem(false, QStringLiteral("partition"), QStringLiteral("cannot split"));
        auto *problems = m_inspector->findChild<QLabel *>(QStringLiteral("sectionProblems"));
        QVERIFY(problems && problems->isVisible());
        QVERIFY(problems->text().contains(QStringLiteral("cannot split")));
    }

    // A component and a section registered after the inspector was written get their forms: nothing in
    // the designer names them. (Registered last: the other tests see the built-ins only.)
    void aComponentRegisteredLaterGetsItsForm() {
        Registry &reg = Registry::global();
        ParamSchema share;
        share.key = QStringLiteral("share");
        share.type = ParamType::CountOrFraction;
        share.defaultValue = 0.5;
        share.max = 1000;
        share.help = QStringLiteral("A count or a fraction.");
        auto strategy = ComponentSchema::make(
            QStringLiteral("strategy"), QStringLiteral("test-later"), QStringLiteral("Registered later"),
            QStringLiteral("A strategy the inspector has never heard of."),
            {intParam(QStringLiteral("steps"), 3, 1, 50, QStringLiteral("Steps."), QStringLiteral("steps")),
             realParam(QStringLiteral("rate"), 1e-4, 0, 1, QStringLiteral("Rate."), {}, true),
             boolParam(QStringLiteral("careful"), true, QStringLiteral("Careful.")),
             choiceParam(QStringLiteral("flavour"), QStringLiteral("b"),
                         {QStringLiteral("a"), QStringLiteral("b")}, QStringLiteral("Flavour.")),
             stringParam(QStringLiteral("label"), QStringLiteral("x"), QStringLiteral("Label.")), share});
        strategy.explanation = QStringLiteral("Only for this test.");
        reg.addComponent(strategy);
        reg.addSection({QStringLiteral("test_later_section"),
                        {},
                        QStringLiteral("A section registered later."),
                        {intParam(QStringLiteral("level"), 2, 0, 9, QStringLiteral("Level."), {},
                                  QStringLiteral("off"))}});

        m_model.reset(quickstart());
        m_inspector->setSelection(QStringLiteral("strategy"));
        QVERIFY(combo(QStringLiteral("strategy.name"))->findData(QStringLiteral("test-later")) >= 0);
        choose(combo(QStringLiteral("strategy.name")), QStringLiteral("test-later"));
        QCOMPARE(m_inspector->editorPaths(),
                 expectedSectionPaths(QStringLiteral("strategy"), QStringLiteral("test-later")));
        QVERIFY(qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("strategy.steps"))));
        QVERIFY(qobject_cast<QLineEdit *>(m_inspector->editor(QStringLiteral("strategy.rate"))));
        QVERIFY(qobject_cast<QCheckBox *>(m_inspector->editor(QStringLiteral("strategy.careful"))));
        QVERIFY(qobject_cast<QComboBox *>(m_inspector->editor(QStringLiteral("strategy.flavour"))));
        QVERIFY(qobject_cast<QLineEdit *>(m_inspector->editor(QStringLiteral("strategy.label"))));
        QVERIFY(qobject_cast<QComboBox *>(m_inspector->editor(QStringLiteral("strategy.share:mode"))));
        QCOMPARE(combo(QStringLiteral("strategy.share:mode"))->currentData().toString(),
                 QStringLiteral("fraction"));
        type(lineEdit(QStringLiteral("strategy.rate")), QStringLiteral("2e-5"));
        QCOMPARE(m_model.value(QStringLiteral("strategy.rate")).toDouble(), 2e-5);
        QVERIFY2(m_model.isValid(), qPrintable(m_model.validationText()));

        QCOMPARE(Inspector::selectionForNode(m_model, QStringLiteral("stage:test_later_section")),
                 QStringLiteral("test_later_section"));
        m_inspector->setSelection(QStringLiteral("stage:test_later_section"));
        auto *level =
            qobject_cast<QSpinBox *>(m_inspector->editor(QStringLiteral("test_later_section.level")));
        QVERIFY(level);
        QCOMPARE(level->value(), 2);
        level->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(level->hasFocus());
        QTest::keyClick(level, Qt::Key_Down);
        QTest::keyClick(level, Qt::Key_Down);
        QCOMPARE(m_model.value(QStringLiteral("test_later_section.level")).toInt(), 0);
        QCOMPARE(level->text(), QStringLiteral("off"));
    }

    void screenshots() {
        const QString dir = screenshotDir();
        QStringList written;
        const auto shoot = [&](const QString &name) {
            QApplication::processEvents();
            verifyNothingCutOff(name);
            const QImage image = m_inspector->grab().toImage();
            QVERIFY(!image.isNull());
            const QString file = dir + QLatin1Char('/') + name + QStringLiteral(".png");
            QVERIFY(image.save(file));
            written.append(file);
        };
        const QPalette light = QApplication::palette();
        for (const bool dark : {false, true}) {
            QApplication::setPalette(dark ? darkPalette() : light);
            QApplication::processEvents();
            const QString suffix = dark ? QStringLiteral("-dark") : QString();
            m_model.reset(quickstart());
            m_inspector->setSelection(QStringLiteral("partition"));
            QTest::mouseClick(m_inspector->explanationButton(QStringLiteral("partition.alpha")),
                              Qt::LeftButton);
            shoot(QStringLiteral("partition-dirichlet") + suffix);

            m_inspector->setSelection(QStringLiteral("strategy"));
            choose(combo(QStringLiteral("strategy.name")), QStringLiteral("krum"));
            shoot(QStringLiteral("strategy-krum") + suffix);

            m_model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("backdoor")},
                                         {QStringLiteral("count"), 2},
                                         {QStringLiteral("behaviour"),
                                          QJsonObject{{QStringLiteral("name"), QStringLiteral("backdoor")},
                                                      {QStringLiteral("boost"), 5}}}});
            m_inspector->setSelection(QStringLiteral("group:backdoor"));
            shoot(QStringLiteral("group-backdoor") + suffix);

            m_inspector->setSelection(QStringLiteral("partition"));
            type(lineEdit(QStringLiteral("partition.alpha")), QStringLiteral("-1"));
            type(lineEdit(QStringLiteral("partition.test_fraction")), QStringLiteral("abc"));
            shoot(QStringLiteral("invalid-value") + suffix);
            focusElsewhere(QStringLiteral("partition.min_samples"));

            // A narrow dock: labels keep their words, fields their minimum, the rest scrolls.
            m_inspector->resize(300, 700);
            m_inspector->setSelection(QStringLiteral("secure_aggregation"));
            QTest::mouseClick(m_inspector->explanationButton(QStringLiteral("secure_aggregation.num_shares")),
                              Qt::LeftButton);
            shoot(QStringLiteral("secure-aggregation-narrow") + suffix);
            m_inspector->resize(420, 900);

            m_inspector->setSelection(QStringLiteral("clients"));
            shoot(QStringLiteral("clients") + suffix);
            m_inspector->setSelection(QString());
            shoot(QStringLiteral("workspace") + suffix);

            ValidationPanel panel(&m_model);
            panel.resize(420, 200);
            QApplication::processEvents();
            const QString file = dir + QStringLiteral("/validation") + suffix + QStringLiteral(".png");
            QVERIFY(panel.grab().toImage().save(file));
            written.append(file);
        }
        QApplication::setPalette(light);
        qInfo("screenshots: %s", qPrintable(written.join(QStringLiteral(", "))));
    }
};

QTEST_MAIN(TestInspector)
#include "test_inspector.moc"
