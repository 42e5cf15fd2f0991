// The colour of a client group, the same in the designer's canvas, the partition preview and the dashboard:
// group i (in client id order) gets entry i of a colour-blind-safe palette (Okabe-Ito without black).
#pragma once

#include <QColor>

namespace fedwb {

inline QColor groupColour(int groupIndex) {
    static const QColor palette[] = {QColor(0x00, 0x72, 0xB2), QColor(0xE6, 0x9F, 0x00),
                                     QColor(0x00, 0x9E, 0x73), QColor(0xCC, 0x79, 0xA7),
                                     QColor(0xD5, 0x5E, 0x00), QColor(0x56, 0xB4, 0xE9),
                                     QColor(0xF0, 0xE4, 0x42)};
    constexpr int n = int(sizeof(palette) / sizeof(palette[0]));
    return palette[((groupIndex % n) + n) % n];
}

} // namespace fedwb
