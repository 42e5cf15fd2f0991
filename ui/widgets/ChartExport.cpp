#include "widgets/ChartExport.h"

#include <QAction>
#include <QBuffer>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPainter>
#include <QPdfWriter>
#include <QPixmap>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace fedwb {

bool saveWidgetImage(QWidget *widget, const QString &path, QString *error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (suffix == QLatin1String("png")) {
        const QPixmap image = widget->grab();
        if (image.isNull() || !image.save(&buffer, "PNG")) {
            if (error) *error = QStringLiteral("could not render the image");
            return false;
        }
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(widget->size());
        svg.setViewBox(QRect(QPoint(0, 0), widget->size()));
        svg.setTitle(QFileInfo(path).completeBaseName());
        svg.setDescription(QStringLiteral("FedWorkbench"));
        QPainter painter(&svg);
        widget->render(&painter);
        painter.end();
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(&buffer);
        pdf.setTitle(QFileInfo(path).completeBaseName());
        pdf.setCreator(QStringLiteral("FedWorkbench"));
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(QSizeF(widget->width(), widget->height()), QPageSize::Point));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter(&pdf);
        const double scale = std::min(double(painter.device()->width()) / widget->width(),
                                      double(painter.device()->height()) / widget->height());
        painter.scale(scale, scale);
        widget->render(&painter);
        painter.end();
    } else {
        if (error) *error = QStringLiteral("%1: unknown image type; allowed: .png, .svg, .pdf").arg(path);
        return false;
    }
    buffer.close();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void addSaveImageAction(QWidget *widget, const QString &baseName) {
    auto *save = new QAction(QObject::tr("Save as PNG, SVG or PDF…"), widget);
    widget->setContextMenuPolicy(Qt::ActionsContextMenu);
    widget->addAction(save);
    QObject::connect(save, &QAction::triggered, widget, [widget, baseName] {
        const QString path = QFileDialog::getSaveFileName(
            widget, QObject::tr("Save image"), baseName + QStringLiteral(".png"),
            QObject::tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
        if (path.isEmpty()) return;
        QString error;
        if (!saveWidgetImage(widget, path, &error))
            QMessageBox::warning(widget, QObject::tr("Save image"), error);
    });
}

} // namespace fedwb
