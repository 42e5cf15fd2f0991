// What the designer's canvas and palette read from the registry, generically: which workspace sections are
// server stages and how each is switched on and off, what kind of behaviour a group has (honest, dropping
// out, an attack), and how a parameter is written in a node. Nothing here names a particular component or
// stage: a new registration shows up in the canvas and the palette as it is.
#pragma once

#include <QColor>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

class QPainter;
class QPalette;
class QRectF;

namespace fedwb {

class FederationModel;

// The sections the federation always has and the canvas draws as nodes of their own; every other registered
// section is a stage of the server's pipeline (privacy, secure_aggregation, compression ...).
bool isCoreSection(const QString &sectionKey);
QStringList stageSections(); // in registry order

// How a stage section is switched on: a Boolean "enabled", a Choice "mode" with an "off" value ("none" or
// "off"), or the component choice "name" of a section whose category has a "none"/"off" component.
struct StageSwitch {
    QString section;
    QString key;                // "enabled", "mode", "name"; empty: the section has no switch
    QJsonValue offValue;        // false, "none", ...
    QList<QJsonValue> onValues; // true; or every choice but the off one, in schema order
    bool valid() const { return !key.isEmpty(); }
    QString path() const { return section + QLatin1Char('.') + key; }
};
StageSwitch stageSwitch(const QString &sectionKey);
// Whether the stage is on in the model (a stage without a switch is always on).
bool isStageActive(const FederationModel &model, const QString &sectionKey);
// The switch's current value as a short word ("central", "on", "off").
QString stageStateText(const FederationModel &model, const QString &sectionKey);

// "secure_aggregation" -> "Secure aggregation"; "clip_norm" -> "clip norm".
QString sectionTitle(const QString &sectionKey);
QString keyWords(const QString &key);
// A value as a node shows it: 60,000; 0.05; 1e-05; on / off; text as is.
QString formatValue(const QJsonValue &value);
// "key value" for each of `paths` that the workspace sets (or every one, with `effective`), joined by " · ".
QStringList paramPhrases(const FederationModel &model, const QStringList &paths, bool effective);

// The kind of a client behaviour: the default one is honest, one with the "drops-out" capability drops out,
// every other one is an attack.
enum class BehaviourKind { Honest, Dropout, Attack };
BehaviourKind behaviourKind(const QString &behaviourName);
QString defaultBehaviour();
QColor behaviourColour(BehaviourKind kind, const QPalette &palette);
// A small round badge for the kind: a check (honest), a broken circle (dropping out), an exclamation mark
// (attack).
void paintBehaviourBadge(QPainter *painter, const QRectF &rect, BehaviourKind kind, const QPalette &palette);

// The colour of class `index` of `count` in a label-distribution glyph (evenly spaced hues).
QColor labelColour(int index, int count);

// Workspace group names: 1 to 40 letters, digits, '_' or '-'.
QString groupNameFrom(const QString &text);

} // namespace fedwb
