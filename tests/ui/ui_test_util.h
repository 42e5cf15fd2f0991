// Helpers the designer's GUI tests (and the partition-preview benchmark) share: the workspaces of the source
// tree, read as JSON, and the dark palette of their screenshots. Header-only; darkPalette() only where the
// target links Qt GUI (the benchmark links the engine only).
#pragma once

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#ifdef QT_GUI_LIB
#include <QColor>
#include <QPalette>

#include <utility>
#endif

namespace fedwb::test {

// The path of a workspace of the source tree: `relative` to its workspaces/ folder.
inline QString workspacePath(const QString &relative) {
    return QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/") + relative;
}

// The workspace file at `relative` (to workspaces/) as JSON; empty when it cannot be read.
inline QJsonObject readWorkspace(const QString &relative) {
    QFile f(workspacePath(relative));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

inline QJsonObject quickstart() {
    return readWorkspace(QStringLiteral("quickstart.fedwb"));
}

#ifdef QT_GUI_LIB
// A dark palette for screenshots (the offscreen platform's default is light).
inline QPalette darkPalette() {
    using P = QPalette;
    // clang-format off
    static const std::pair<P::ColorRole, QRgb> colours[] = {
        {P::Window, 0x2b2d30},           {P::WindowText, 0xe6e6e6},   {P::Base, 0x1e1f22},
        {P::AlternateBase, 0x323438},    {P::Text, 0xe6e6e6},         {P::Button, 0x3a3c40},
        {P::ButtonText, 0xe6e6e6},       {P::Highlight, 0x3d7edb},    {P::HighlightedText, 0xffffff},
        {P::PlaceholderText, 0x8a8c90},  {P::ToolTipBase, 0x3a3c40},  {P::ToolTipText, 0xe6e6e6},
        {P::Link, 0x6ca8ff},             {P::Light, 0x505256},        {P::Midlight, 0x45474b},
        {P::Mid, 0x303235},              {P::Dark, 0x18191b},         {P::Shadow, 0x000000}};
    // clang-format on
    QPalette p;
    for (const auto &[role, rgb] : colours)
        p.setColor(role, QColor(rgb));
    return p;
}
#endif

} // namespace fedwb::test
