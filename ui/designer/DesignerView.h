// The Design tab: the workspace being edited, drawn and edited on the canvas (with its palette), in the
// schema-generated inspector and in the partition preview, under a header with what the federation is and
// everything that keeps it from running (validation and the data pre-flight). All of them share the one
// FederationModel of the WorkspaceDocument.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

class QLabel;
class QSplitter;

namespace fedwb {

class FederationCanvas;
class Inspector;
class Palette;
class PartitionPreview;
class ValidationPanel;
class WorkspaceDocument;

class DesignerView : public QWidget {
    Q_OBJECT

public:
    explicit DesignerView(WorkspaceDocument *document, QWidget *parent = nullptr);

    // Whether the workspace can run: valid and its data pre-flight passed (or not finished yet: Run then
    // waits for nothing; a failing pre-flight disables it). runBlockers() says why not, one line per reason.
    bool canRun() const;
    QStringList runBlockers() const;
    // The lines shown in the problems box, as `fedwb-cli validate` prints them (errors, then warnings,
    // then the data pre-flight's problem).
    QString validationText() const;
    // A note above the design (e.g. "a run of another workspace is in progress"); empty removes it.
    void setNotice(const QString &html);

    FederationCanvas *canvas() const { return m_canvas; }
    Inspector *inspector() const { return m_inspector; }
    // The palette is the designer's but lives where the window puts it (a dock beside the Runs list).
    Palette *palette() const { return m_palette; }
    PartitionPreview *preview() const { return m_preview; }

Q_SIGNALS:
    void runnableChanged(bool runnable);
    void varyRequested(const QString &path);

private:
    void refreshHeader();
    void refreshProblems();

    WorkspaceDocument *m_document;
    QLabel *m_header = nullptr;
    QLabel *m_notice = nullptr;
    ValidationPanel *m_problems = nullptr;
    QSplitter *m_sides = nullptr, *m_center = nullptr;
    FederationCanvas *m_canvas = nullptr;
    Inspector *m_inspector = nullptr;
    Palette *m_palette = nullptr;
    PartitionPreview *m_preview = nullptr;
    bool m_preflightOk = true;
    bool m_lastRunnable = false;
};

} // namespace fedwb
