// An icon drawn in code, in the palette's colours (no font or theme needed): `draw` paints on a transparent
// size x size (logical pixels) pixmap at device pixel ratio `dpr`, with antialiasing on.
#pragma once

#include <QIcon>
#include <QPainter>
#include <QPixmap>

namespace fedwb {

template <typename Draw> QIcon drawnIcon(int size, qreal dpr, Draw &&draw) {
    QPixmap pm(QSize(size, size) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    {
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        draw(p);
    }
    return QIcon(pm);
}

} // namespace fedwb
