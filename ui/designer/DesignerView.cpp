#include "designer/DesignerView.h"

#include "designer/FederationCanvas.h"
#include "designer/FederationModel.h"
#include "designer/FederationScene.h"
#include "designer/Inspector.h"
#include "designer/Palette.h"
#include "designer/PartitionPreview.h"
#include "designer/WorkspaceDocument.h"
#include "privacy/PrivacyLedger.h"
#include "run/Experiment.h"

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QVBoxLayout>

namespace fedwb {

DesignerView::DesignerView(WorkspaceDocument *document, QWidget *parent)
    : QWidget(parent)
    , m_document(document) {
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(6);

    m_header = new QLabel;
    m_header->setObjectName(QStringLiteral("designHeader"));
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_header);

    m_notice = new QLabel;
    m_notice->setObjectName(QStringLiteral("designNotice"));
    m_notice->setTextFormat(Qt::RichText);
    m_notice->setWordWrap(true);
    m_notice->setStyleSheet(
        QStringLiteral("QLabel { background: #e8f1fb; color: #0b3d6b; border: 1px solid #a9c8ea;"
                       " border-radius: 4px; padding: 6px; }"));
    m_notice->hide();
    layout->addWidget(m_notice);

    FederationModel *model = m_document->model();
    // What keeps the workspace from running, each line leading to its field in the inspector.
    m_problems = new ValidationPanel(model);
    m_problems->setObjectName(QStringLiteral("designProblems"));
    layout->addWidget(m_problems);

    m_preview = new PartitionPreview(model);
    m_preview->setObjectName(QStringLiteral("partitionPreview"));
    m_inspector = new Inspector(model);
    m_inspector->setObjectName(QStringLiteral("inspector"));
    connect(m_preview, &PartitionPreview::preflightChanged, m_problems,
            &ValidationPanel::setPreflightProblem);
    connect(m_preview, &PartitionPreview::preflightChanged, m_inspector, &Inspector::setPreflightProblem);
    connect(m_preview, &PartitionPreview::preflightChanged, this, [this](bool ok) {
        m_preflightOk = ok;
        refreshProblems();
    });
    connect(m_problems, &ValidationPanel::issueActivated, m_inspector, &Inspector::focusPath);
    connect(m_inspector, &Inspector::varyRequested, this, &DesignerView::varyRequested);

    m_canvas = new FederationCanvas(model);
    m_canvas->setObjectName(QStringLiteral("canvas"));
    m_palette = new Palette(model);
    m_palette->setObjectName(QStringLiteral("palette"));
    // The canvas's selection is what the inspector edits (several nodes: the workspace page).
    connect(m_canvas, &FederationCanvas::selectionChangedTo, this, [this](const QStringList &ids) {
        m_inspector->setSelection(ids.size() == 1 ? ids.first() : QString());
    });
    connect(m_canvas, &FederationCanvas::nodeActivated, m_inspector,
            [this](const QString &id) { m_inspector->setSelection(id); });
    connect(m_palette, &Palette::entryApplied, m_canvas, &FederationCanvas::selectNode);
    // The preview's partition draws the groups' label glyphs on the canvas.
    connect(m_preview, &PartitionPreview::updated, this, [this] {
        if (const PartitionSummary *summary = m_preview->summary())
            m_canvas->federationScene()->setPartitionSummary(*summary);
        else
            m_canvas->federationScene()->clearLabelHistograms();
    });

    // Palette | canvas over the partition preview | inspector.
    m_center = new QSplitter(Qt::Vertical);
    m_center->setChildrenCollapsible(false);
    m_center->addWidget(m_canvas);
    m_center->addWidget(m_preview);
    m_center->setStretchFactor(0, 1);
    m_center->setStretchFactor(1, 1);
    m_center->setSizes({290, 330});
    m_sides = new QSplitter(Qt::Horizontal);
    m_sides->setChildrenCollapsible(false);
    m_sides->addWidget(m_center);
    m_sides->addWidget(m_inspector);
    m_sides->setStretchFactor(0, 3);
    m_sides->setStretchFactor(1, 1);
    m_sides->setSizes({700, 340});
    layout->addWidget(m_sides, 1);

    connect(model, &FederationModel::validated, this, [this] {
        refreshHeader();
        refreshProblems();
    });
    connect(m_document, &WorkspaceDocument::pathChanged, this, &DesignerView::refreshHeader);
    refreshHeader();
    refreshProblems();
}

bool DesignerView::canRun() const {
    return runBlockers().isEmpty();
}

// The validation panel's list: the model's errors, then the pre-flight's problem (it holds both).
QStringList DesignerView::runBlockers() const {
    return m_problems->runBlockers();
}

QString DesignerView::validationText() const {
    QString text = m_document->model()->validationText();
    if (!m_preflightOk) {
        if (!text.isEmpty()) text += QLatin1Char('\n');
        text += runBlockers().constLast();
    }
    return text;
}

void DesignerView::setNotice(const QString &html) {
    m_notice->setText(html);
    m_notice->setVisible(!html.isEmpty());
}

void DesignerView::refreshHeader() {
    const FederationModel *model = m_document->model();
    const QString name = model->value(QStringLiteral("name")).toString();
    const QString description = model->value(QStringLiteral("description")).toString();
    QString header =
        QStringLiteral("<h3 style='margin:0'>%1%2</h3>")
            .arg((name.isEmpty() ? m_document->displayName() : name).toHtmlEscaped(),
                 m_document->isDirty() ? QStringLiteral(" <span style='color:#8a8a8a'>*</span>") : QString());
    if (!description.isEmpty()) { // long descriptions (the examples') in full as the tooltip
        const int limit = 180;
        QString shown = description;
        if (shown.size() > limit)
            shown = shown.left(shown.lastIndexOf(QLatin1Char(' '), limit)) + QStringLiteral(" …");
        header +=
            QStringLiteral("<p style='margin-top:3px; margin-bottom:0'>%1</p>").arg(shown.toHtmlEscaped());
        m_header->setToolTip(description.size() > limit ? description : QString());
    } else {
        m_header->setToolTip({});
    }
    const QString where =
        m_document->isUntitled() ? tr("not saved yet") : QDir::toNativeSeparators(m_document->path());
    QStringList facts;
    if (const std::optional<FederationSpec> &spec = model->spec()) {
        const auto named = [&spec, &facts](const QString &label, const QString &path) {
            const QString v = spec->string(path);
            if (!v.isEmpty())
                facts.append(label + QStringLiteral(" <b>") + v.toHtmlEscaped() + QStringLiteral("</b>"));
        };
        named(tr("dataset"), QStringLiteral("dataset.name"));
        named(tr("partition"), QStringLiteral("partition.name"));
        named(tr("model"), QStringLiteral("model.name"));
        named(tr("strategy"), QStringLiteral("strategy.name"));
        if (spec->poissonSampling())
            facts.append(tr("<b>%1</b> clients, each with probability <b>%2</b> per round (Poisson)")
                             .arg(spec->clientCount())
                             .arg(spec->samplingRate()));
        else
            facts.append(tr("<b>%1</b> clients, <b>%2</b> per round")
                             .arg(spec->clientCount())
                             .arg(spec->clientsPerRound()));
        facts.append(tr("<b>%1</b> rounds").arg(spec->rounds()));
        if (const auto planned = privacy::plannedPrivacy(*spec)) {
            const QString epsilon = tr("ε ≤ <b>%1</b> after %2 rounds (δ %3)")
                                        .arg(planned->epsilon, 0, 'g', 3)
                                        .arg(planned->rounds)
                                        .arg(planned->delta, 0, 'g', 3);
            if (planned->mode == QLatin1String("central"))
                facts.append(tr("central DP: noise <b>%1</b>, clip <b>%2</b>%3, %4")
                                 .arg(spec->real(QStringLiteral("privacy.noise_multiplier")))
                                 .arg(spec->real(QStringLiteral("privacy.clip_norm")))
                                 .arg(spec->boolean(QStringLiteral("privacy.adaptive_clipping"))
                                          ? tr(" (adaptive)")
                                          : QString())
                                 .arg(epsilon));
            else
                facts.append(tr("local DP: %1 for a client in every round (worst group)").arg(epsilon));
        }
    }
    header += QStringLiteral("<p style='margin-top:4px; margin-bottom:0'>") +
              facts.join(QStringLiteral(" &nbsp;·&nbsp; ")) +
              (facts.isEmpty() ? QString() : QStringLiteral(" &nbsp;·&nbsp; ")) +
              QStringLiteral("<span style='color:#6b6b6b'>%1</span></p>").arg(where.toHtmlEscaped());
    m_header->setText(header);
}

void DesignerView::refreshProblems() {
    const FederationModel *model = m_document->model();
    const bool any = !model->errors().isEmpty() || !model->warnings().isEmpty() || !m_preflightOk;
    m_problems->setVisible(any);
    if (any) { // as tall as its lines, up to five of them (the list scrolls beyond)
        QListWidget *list = m_problems->list();
        int rows = 0;
        for (int i = 0; i < std::min(list->count(), 5); ++i)
            rows += list->sizeHintForRow(i);
        list->setFixedHeight(rows + 2 * list->frameWidth() + 4);
        m_problems->setMaximumHeight(QWIDGETSIZE_MAX);
    }
    const bool runnable = canRun();
    if (runnable != m_lastRunnable) {
        m_lastRunnable = runnable;
        Q_EMIT runnableChanged(runnable);
    }
}

} // namespace fedwb
