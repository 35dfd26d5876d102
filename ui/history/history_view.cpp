#include "history/history_view.h"

#include "base/files.h"

#include <QDateTime>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace cachescope::ui {

namespace {

QString stepCell(const std::optional<build::HistoryStep>& s)
{
    if (!s)
        return QObject::tr("(not in this build)");
    QString text = QString::fromStdString(s->state == "ran" ? "run" : s->state);
    if (!s->source.empty())
        text += QObject::tr(" from %1").arg(QString::fromStdString(s->source));
    if (s->state == "ran" || s->state == "failed")
        text += QObject::tr(" · %1 s").arg(s->durationMs / 1000.0, 0, 'f', 2);
    return text;
}

QString whatChanged(const build::StepDiff& d)
{
    if (!d.a)
        return QObject::tr("only in B");
    if (!d.b)
        return QObject::tr("only in A");
    QStringList what;
    if (d.nameChanged)
        what << QObject::tr("instruction (was %1)").arg(QString::fromStdString(d.a->name));
    if (d.contentChanged)
        what << QObject::tr("files it copies");
    if (d.keyChanged)
        what << QObject::tr("cache key");
    if (d.stateChanged)
        what << QObject::tr("state");
    if (d.sourceChanged)
        what << QObject::tr("source");
    return what.join(QStringLiteral(", "));
}

// Seconds with two decimals; a difference that rounds to nothing reads 0.00, not -0.00.
QString seconds(std::int64_t ms)
{
    const QString text = QString::number(ms / 1000.0, 'f', 2);
    return text == QStringLiteral("-0.00") ? QStringLiteral("0.00") : text;
}

QString localTime(const std::string& iso)
{
    const QDateTime t = QDateTime::fromString(QString::fromStdString(iso), Qt::ISODateWithMs);
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString::fromStdString(iso);
}

} // namespace

HistoryView::HistoryView(QWidget* parent) : QWidget(parent), dataDir_(defaultDataDir())
{
    refresh_ = new QPushButton(tr("&Refresh"), this);
    info_ = new QLabel(this);
    info_->setWordWrap(true);

    list_ = new QTreeWidget(this);
    list_->setAccessibleName(tr("Past builds"));
    list_->setRootIsDecorated(false);
    list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    list_->setHeaderLabels(
        {tr("When"), tr("Result"), tr("Import"), tr("Cached"), tr("Run"), tr("Time (s)"), tr("Target"), tr("Context")});

    summary_ = new QLabel(tr("Select two builds (Ctrl+click) to see what changed between them."), this);
    summary_->setWordWrap(true);
    diff_ = new QTableWidget(0, 5, this);
    diff_->setAccessibleName(tr("Build diff"));
    diff_->setHorizontalHeaderLabels({tr("Step"), tr("A (older)"), tr("B (newer)"), tr("Δ time (s)"), tr("Changed")});
    diff_->verticalHeader()->setVisible(false);
    diff_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    diff_->horizontalHeader()->setStretchLastSection(true);
    diff_->setWordWrap(false);
    diff_->setTextElideMode(Qt::ElideMiddle);

    auto* top = new QHBoxLayout;
    top->addWidget(refresh_);
    top->addWidget(info_, 1);
    auto* lower = new QWidget(this);
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(summary_);
    lowerLayout->addWidget(diff_, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(list_);
    split->addWidget(lower);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);

    connect(refresh_, &QPushButton::clicked, this, &HistoryView::refresh);
    connect(list_, &QTreeWidget::itemSelectionChanged, this, &HistoryView::showDiff);
}

void HistoryView::setDataDir(const std::filesystem::path& dir)
{
    dataDir_ = dir;
    refresh();
}

void HistoryView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    refresh(); // builds may have finished since the tab was last shown
}

void HistoryView::refresh()
{
    const quint64 generation = ++generation_;
    info_->setText(tr("Reading %1…").arg(QString::fromStdString(build::buildHistoryDir(dataDir_).string())));
    auto* watcher = new QFutureWatcher<build::BuildHistoryListing>(this);
    connect(watcher, &QFutureWatcher<build::BuildHistoryListing>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation == generation_) // a newer refresh supersedes this one
            showListing(watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([dir = dataDir_] { return build::listBuildHistory(dir); }));
}

void HistoryView::showListing(const build::BuildHistoryListing& listing)
{
    // Keep the selection across a refresh (ids are stable).
    QStringList selected;
    for (QTreeWidgetItem* item : list_->selectedItems())
        selected << item->data(0, Qt::UserRole).toString();
    builds_ = listing.builds;
    const QSignalBlocker block(list_);
    list_->clear();
    for (std::size_t i = 0; i < builds_.size(); ++i) {
        const build::BuildRecord& r = builds_[i];
        auto* item = new QTreeWidgetItem(
            list_, {localTime(r.time), r.ok ? tr("ok") : tr("failed"),
                    r.withImport ? tr("%1 source(s)").arg(r.sources.size()) : tr("none"),
                    QString::number(r.totals.stepsCached), QString::number(r.totals.stepsRun),
                    QString::number(r.totals.totalMs / 1000.0, 'f', 2),
                    r.target.empty() ? tr("(last stage)") : QString::fromStdString(r.target),
                    QString::fromStdString(r.context)});
        item->setData(0, Qt::UserRole, QString::fromStdString(r.id));
        item->setData(0, Qt::UserRole + 1, static_cast<int>(i));
        if (!r.ok)
            item->setToolTip(1, QString::fromStdString(r.error));
        item->setToolTip(7, QString::fromStdString(r.dockerfile));
        if (selected.contains(QString::fromStdString(r.id)))
            item->setSelected(true);
    }
    for (int c = 0; c < list_->columnCount() - 1; ++c)
        list_->resizeColumnToContents(c);
    QString info = tr("%1 build(s) in %2").arg(builds_.size()).arg(QString::fromStdString(build::buildHistoryDir(dataDir_).string()));
    if (!listing.skipped.empty()) {
        info += tr(" · %1 damaged record(s) skipped").arg(listing.skipped.size());
        QStringList why;
        for (const auto& s : listing.skipped)
            why << QString::fromStdString(s);
        info_->setToolTip(why.join(QLatin1Char('\n')));
    } else {
        info_->setToolTip({});
    }
    info_->setText(info);
    showDiff();
    emit loaded();
}

void HistoryView::showDiff()
{
    const QList<QTreeWidgetItem*> selected = list_->selectedItems();
    diff_->setRowCount(0);
    if (selected.size() != 2) {
        summary_->setText(tr("Select two builds (Ctrl+click) to see what changed between them."));
        return;
    }
    // A is the older build: the list is newest first.
    int ia = selected[0]->data(0, Qt::UserRole + 1).toInt(), ib = selected[1]->data(0, Qt::UserRole + 1).toInt();
    if (ia < ib)
        std::swap(ia, ib);
    const build::BuildRecord& a = builds_[static_cast<std::size_t>(ia)];
    const build::BuildRecord& b = builds_[static_cast<std::size_t>(ib)];
    const build::BuildDiff d = build::diffBuilds(a, b);
    summary_->setText(tr("A %1 → B %2: %3 of %4 steps changed · total %5%6 s")
                          .arg(localTime(a.time), localTime(b.time))
                          .arg(d.changedSteps())
                          .arg(d.steps.size())
                          .arg(d.totalDeltaMs >= 0 ? QStringLiteral("+") : QString())
                          .arg(seconds(d.totalDeltaMs)));
    QColor changedBackground = palette().color(QPalette::Highlight); // a tint readable on light and dark palettes
    changedBackground.setAlpha(60);
    for (const build::StepDiff& s : d.steps) {
        const int row = diff_->rowCount();
        diff_->insertRow(row);
        const QStringList cells{QString::fromStdString(s.name()), stepCell(s.a), stepCell(s.b),
                                s.a && s.b ? seconds(s.durationDeltaMs) : QString(),
                                whatChanged(s)};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (s.changed())
                item->setBackground(changedBackground);
            if (c == 0)
                item->setToolTip(QString::fromStdString(s.name() + "\nkey " + (s.b ? s.b->key : s.a->key)));
            diff_->setItem(row, c, item);
        }
    }
    diff_->resizeColumnsToContents();
    // Long step names (a FROM with its digest) must not push the other columns out of sight.
    diff_->setColumnWidth(0, std::min(diff_->columnWidth(0), 460));
}

} // namespace cachescope::ui
