// Saving what a view shows: any widget (a chart, the heatmap) as PNG, SVG or PDF by the file's suffix, and a
// context-menu entry that asks where. The GUI's exports all go through here.
#pragma once

#include <QString>

class QWidget;

namespace fedwb {

// Renders `widget` into `path` (.png, .svg or .pdf, case-insensitive); false with *error on an unknown
// suffix or a file that cannot be written. The file is written whole or not at all.
bool saveWidgetImage(QWidget *widget, const QString &path, QString *error);

// Adds "Save as PNG, SVG or PDF…" to `widget`'s context menu (a file dialog, then saveWidgetImage);
// `baseName` is the suggested file name without suffix.
void addSaveImageAction(QWidget *widget, const QString &baseName);

} // namespace fedwb
