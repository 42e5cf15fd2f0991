#include "run/RunView.h"

#include "dashboard/LiveChart.h"
#include "runs/RunsModel.h"
#include "widgets/SpecTree.h"

#include <QAbstractTableModel>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace fedwb {

namespace {

const QColor kErrorColor(0xb3, 0x1b, 0x1b);
const QColor kDefaultColor(0x80, 0x80, 0x80);

QString formatNumber(double v, int significant = 4) {
    if (!std::isfinite(v)) return QStringLiteral("—");
    return QString::number(v, 'g', significant);
}

QString formatFixed(double v, int decimals) {
    if (!std::isfinite(v)) return QStringLiteral("—");
    return QString::number(v, 'f', decimals);
}

} // namespace

QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("—");
    if (seconds < 10) return QString::number(seconds, 'f', 1) + QStringLiteral(" s");
    if (seconds < 60) return QString::number(qRound(seconds)) + QStringLiteral(" s");
    const qint64 s = qRound64(seconds);
    if (s < 3600) return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

namespace {

QLabel *makeCaption(const QString &text) {
    auto *label = new QLabel(text);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    label->setFont(f);
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, QColor(0x6b, 0x6b, 0x6b));
    label->setPalette(pal);
    return label;
}

} // namespace

// The per-round table of the Run tab.
class RoundTableModel : public QAbstractTableModel {
public:
    enum Column {
        Round,
        TestAccuracy,
        TestLoss,
        TrainLoss,
        FairMean,
        FairWorst10,
        FairJain,
        Clients,
        RoundSeconds,
        ColumnCount
    };

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override {
        return parent.isValid() ? 0 : ColumnCount;
    }

    QVariant data(const QModelIndex &index, int role) const override {
        if (!index.isValid() || index.row() >= m_rows.size()) return {};
        const Row &r = m_rows.at(index.row());
        const bool testColumn =
            index.column() >= TestAccuracy && index.column() <= FairJain && index.column() != TrainLoss;
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ForegroundRole && testColumn && !r.evaluated)
            return QVariant::fromValue(kDefaultColor);
        if (role != Qt::DisplayRole) return {};
        if (testColumn && !r.evaluated) return QStringLiteral("—");
        switch (index.column()) {
        case Round:
            return r.round;
        case TestAccuracy:
            return formatFixed(r.testAccuracy, 4);
        case TestLoss:
            return formatFixed(r.testLoss, 4);
        case TrainLoss:
            return r.clients > 0 ? formatFixed(r.trainLoss, 4) : QStringLiteral("—");
        case FairMean:
            return formatFixed(r.fairness.mean, 4);
        case FairWorst10:
            return formatFixed(r.fairness.worst10, 4);
        case FairJain:
            return formatFixed(r.fairness.jain, 4);
        case Clients:
            return r.clients;
        case RoundSeconds:
            return formatFixed(r.roundSeconds, 2);
        default:
            return {};
        }
    }

    QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
        if (orientation != Qt::Horizontal) return {};
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ToolTipRole) {
            switch (section) {
            case FairMean:
                return RunView::tr("Mean of the per-client local test accuracy");
            case FairWorst10:
                return RunView::tr("Mean accuracy of the worst 10 % of clients");
            case FairJain:
                return RunView::tr("Jain's fairness index of per-client accuracy (1 = all equal)");
            case Clients:
                return RunView::tr("Clients selected this round");
            default:
                return {};
            }
        }
        if (role != Qt::DisplayRole) return {};
        switch (section) {
        case Round:
            return RunView::tr("Round");
        case TestAccuracy:
            return RunView::tr("Test acc.");
        case TestLoss:
            return RunView::tr("Test loss");
        case TrainLoss:
            return RunView::tr("Train loss");
        case FairMean:
            return RunView::tr("Client mean");
        case FairWorst10:
            return RunView::tr("Worst 10 %");
        case FairJain:
            return RunView::tr("Jain");
        case Clients:
            return RunView::tr("Clients");
        case RoundSeconds:
            return RunView::tr("Time (s)");
        default:
            return {};
        }
    }

    void append(const RoundMetrics &m) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
        m_rows.append(rowOf(m));
        endInsertRows();
    }
    void setRounds(const QList<RoundMetrics> &rounds) {
        beginResetModel();
        m_rows.clear();
        for (const RoundMetrics &m : rounds)
            m_rows.append(rowOf(m));
        endResetModel();
    }
    void clear() { setRounds({}); }

private:
    struct Row {
        int round = 0;
        bool evaluated = false;
        double testAccuracy = 0, testLoss = 0, trainLoss = 0;
        Fairness fairness;
        int clients = 0;
        double roundSeconds = 0;
    };
    static Row rowOf(const RoundMetrics &m) {
        return Row{m.round,     m.evaluated, m.testAccuracy,    m.testLoss,
                   m.trainLoss, m.fairness,  m.clientsSelected, m.roundSeconds};
    }
    QList<Row> m_rows;
};

RunView::RunView(QWidget *parent)
    : QWidget(parent) {
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(10);

    m_header = new QLabel;
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    layout->addWidget(m_header);

    auto *cards = new QHBoxLayout;
    cards->setSpacing(8);
    const auto addCard = [cards](const QString &caption, const QString &tip) {
        auto *frame = new QFrame;
        frame->setObjectName(QStringLiteral("metricCard"));
        frame->setStyleSheet(QStringLiteral("QFrame#metricCard { background: palette(base);"
                                            " border: 1px solid palette(midlight); border-radius: 6px; }"));
        frame->setToolTip(tip);
        auto *box = new QVBoxLayout(frame);
        box->setContentsMargins(10, 6, 10, 8);
        box->setSpacing(2);
        auto *value = new QLabel(QStringLiteral("—"));
        QFont f = value->font();
        f.setPointSizeF(f.pointSizeF() * 1.35);
        f.setWeight(QFont::DemiBold);
        value->setFont(f);
        box->addWidget(makeCaption(caption));
        box->addWidget(value);
        cards->addWidget(frame, 1);
        return value;
    };
    m_valRound = addCard(tr("Round"), tr("Rounds done / planned"));
    m_valAccuracy = addCard(tr("Test accuracy"), tr("Global model on the test set (last evaluation)"));
    m_valTestLoss = addCard(tr("Test loss"), tr("Global model on the test set (last evaluation)"));
    m_valTrainLoss = addCard(tr("Train loss"), tr("Sample-weighted mean over the clients trained"));
    m_valFairMean = addCard(tr("Client mean"), tr("Mean of the per-client local test accuracy"));
    m_valFairWorst = addCard(tr("Worst 10 %"), tr("Mean accuracy of the worst 10 % of clients"));
    m_valFairJain =
        addCard(tr("Jain index"), tr("Jain's fairness index of per-client accuracy (1 = all equal)"));
    m_valWall = addCard(tr("Wall time"), tr("Time since the run started"));
    layout->addLayout(cards);

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->setChildrenCollapsible(false);
    m_chart = new LiveChart;
    m_chart->setObjectName(QStringLiteral("liveChart"));
    splitter->addWidget(m_chart);

    m_roundModel = new RoundTableModel(this);
    m_roundTable = new QTableView;
    m_roundTable->setObjectName(QStringLiteral("roundTable"));
    m_roundTable->setModel(m_roundModel);
    m_roundTable->setAlternatingRowColors(true);
    m_roundTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_roundTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_roundTable->verticalHeader()->hide();
    m_roundTable->verticalHeader()->setDefaultSectionSize(m_roundTable->fontMetrics().height() + 6);
    m_roundTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_roundTable->setMinimumHeight(110);
    splitter->addWidget(m_roundTable);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({480, 170});

    // The settings of the run shown: its own stored spec, not the open workspace's.
    m_specPanel = new QWidget;
    auto *specLayout = new QVBoxLayout(m_specPanel);
    specLayout->setContentsMargins(0, 0, 0, 0);
    specLayout->setSpacing(6);
    m_specTitle = new QLabel;
    m_specTitle->setWordWrap(true);
    m_specTitle->setTextFormat(Qt::RichText);
    specLayout->addWidget(m_specTitle);
    m_specTree = new SpecTree;
    m_specTree->setObjectName(QStringLiteral("runSpecTree"));
    specLayout->addWidget(m_specTree, 1);
    m_openSpec = new QPushButton(tr("Open as New Workspace"));
    m_openSpec->setObjectName(QStringLiteral("openRunSpec"));
    m_openSpec->setToolTip(
        tr("Edit these settings in the designer as a new, untitled workspace (the stored run "
           "is not changed)"));
    connect(m_openSpec, &QPushButton::clicked, this,
            [this] { Q_EMIT openSpecAsWorkspace(m_spec, m_specName); });
    specLayout->addWidget(m_openSpec, 0, Qt::AlignRight);
    m_specPanel->hide();

    auto *sides = new QSplitter(Qt::Horizontal);
    sides->setChildrenCollapsible(false);
    sides->addWidget(splitter);
    sides->addWidget(m_specPanel);
    sides->setStretchFactor(0, 3);
    sides->setStretchFactor(1, 2);
    layout->addWidget(sides, 1);

    clear();
    setHeader(tr("<span style='color:#6b6b6b'>No run selected. Press <b>Run</b> or pick a run from the "
                 "<b>Runs</b> list.</span>"));
}

void RunView::clear(const QString &placeholder) {
    m_chart->clear();
    m_chart->setPlaceholderText(placeholder.isEmpty() ? tr("No rounds yet") : placeholder);
    m_roundModel->clear();
    m_lastShownRound = 0;
    for (QLabel *l : {m_valRound, m_valAccuracy, m_valTestLoss, m_valTrainLoss, m_valFairMean, m_valFairWorst,
                      m_valFairJain, m_valWall})
        l->setText(QStringLiteral("—"));
    if (m_totalRounds > 0) m_valRound->setText(QStringLiteral("0 / %1").arg(m_totalRounds));
}

void RunView::setHeader(const QString &html) {
    m_header->setText(html);
}

QString RunView::headerText() const {
    return m_header->text();
}

void RunView::setTotalRounds(int rounds) {
    m_totalRounds = rounds;
    if (m_lastShownRound == 0) m_valRound->setText(QStringLiteral("0 / %1").arg(rounds));
}

void RunView::setRunSpec(const QJsonObject &spec, const QString &title) {
    m_spec = spec;
    m_specName = title;
    if (spec.isEmpty()) {
        m_specPanel->hide();
        m_specTree->clear();
        return;
    }
    m_specTitle->setText(QStringLiteral("<b>") + tr("Settings of this run") +
                         QStringLiteral("</b><br><span style='color:#6b6b6b'>") +
                         tr("as recorded when it started; read-only") + QStringLiteral("</span>"));
    m_specTree->setSpec(spec, spec);
    m_specPanel->show();
}

void RunView::showStoredRun(const StoredRun &run, const QList<RoundMetrics> &rounds,
                            const QString &resumeHint) {
    m_totalRounds = run.roundsPlanned;
    clear(tr("No rounds recorded"));
    m_chart->setRounds(rounds);
    m_roundModel->setRounds(rounds);
    for (const RoundMetrics &m : rounds)
        showRoundValues(m);
    if (!rounds.isEmpty()) m_lastShownRound = rounds.last().round;
    m_roundTable->scrollToBottom();

    QString header = tr("<b>Run #%1</b> &nbsp;%2").arg(run.id).arg(run.name.toHtmlEscaped());
    header += QStringLiteral(" &nbsp;·&nbsp; <b style='color:%1'>%2</b>")
                  .arg(runStatusColour(run.status).name(), runStatusName(run.status));
    header +=
        QStringLiteral(" &nbsp;·&nbsp; ") +
        tr("started %1").arg(run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")));
    if (run.wallSeconds > 0) header += QStringLiteral(" &nbsp;·&nbsp; ") + formatDuration(run.wallSeconds);
    if (!run.message.isEmpty())
        header += QStringLiteral("<br><span style='color:%1'>%2</span>")
                      .arg(kErrorColor.name(), run.message.toHtmlEscaped());
    if (!resumeHint.isEmpty())
        header += QStringLiteral("<br><i>") + resumeHint.toHtmlEscaped() + QStringLiteral("</i>");
    setHeader(header);
    setRunSpec(run.spec, run.name);
}

void RunView::addRound(const RoundMetrics &metrics) {
    if (metrics.round <= m_lastShownRound) return;
    m_lastShownRound = metrics.round;
    m_chart->addRound(metrics);
    m_roundModel->append(metrics);
    m_roundTable->scrollToBottom();
    showRoundValues(metrics);
}

void RunView::showRoundValues(const RoundMetrics &m) {
    m_valRound->setText(m_totalRounds > 0 ? QStringLiteral("%1 / %2").arg(m.round).arg(m_totalRounds)
                                          : QString::number(m.round));
    if (m.evaluated) {
        m_valAccuracy->setText(formatFixed(m.testAccuracy, 4));
        m_valTestLoss->setText(formatNumber(m.testLoss));
        m_valFairMean->setText(formatFixed(m.fairness.mean, 4));
        m_valFairWorst->setText(formatFixed(m.fairness.worst10, 4));
        m_valFairJain->setText(formatFixed(m.fairness.jain, 4));
    }
    if (m.clientsSelected > 0) m_valTrainLoss->setText(formatNumber(m.trainLoss));
    m_valWall->setText(formatDuration(m.wallSeconds));
}

} // namespace fedwb
