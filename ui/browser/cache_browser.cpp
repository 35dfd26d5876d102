#include "browser/cache_browser.h"

#include "browser/build_step_map.h"
#include "browser/key_graph_view.h"
#include "cache/imported_cache.h"
#include "models/layers_model.h"
#include "models/records_model.h"
#include "models/source_list_model.h"
#include "models/steps_model.h"

#include <QEvent>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QSet>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace cachescope::ui {

namespace {
QTableView* tableFor(QAbstractItemModel* model, const QString& name, QWidget* parent)
{
    auto* view = new QTableView(parent);
    view->setModel(model);
    view->setAccessibleName(name);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->verticalHeader()->setVisible(false);
    view->horizontalHeader()->setStretchLastSection(true);
    view->setWordWrap(false);
    return view;
}
} // namespace

CacheBrowser::CacheBrowser(QWidget* parent) : QWidget(parent)
{
    header_ = new QLabel(tr("Select a cache source to browse its records."), this);
    header_->setWordWrap(true);
    header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    stepSummary_ = new QLabel(this);
    stepSummary_->setAccessibleName(tr("Current build on this source"));
    stepSummary_->setWordWrap(true);
    platform_ = new QComboBox(this);
    platform_->setAccessibleName(tr("Platform of the inline cache"));
    platform_->setVisible(false);

    graphView_ = new KeyGraphView(this);
    records_ = new RecordsModel(this);
    layers_ = new LayersModel(this);
    recordsView_ = tableFor(records_, tr("Cache records"), this);
    layersView_ = tableFor(layers_, tr("Cache layers"), this);
    problems_ = new QListWidget(this);
    problems_->setAccessibleName(tr("Problems found in the source"));
    problems_->setWordWrap(true);

    tabs_ = new QTabWidget(this);
    tabs_->addTab(recordsView_, tr("Records"));
    tabs_->addTab(layersView_, tr("Layers"));
    tabs_->addTab(problems_, tr("Problems"));

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(graphView_);
    split->addWidget(tabs_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({420, 280});

    auto* top = new QHBoxLayout;
    top->addWidget(header_, 1);
    top->addWidget(platform_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addWidget(stepSummary_);
    layout->addWidget(split, 1);

    connect(platform_, &QComboBox::currentIndexChanged, this, &CacheBrowser::showGraph);
    // A live build changes its steps every few ms: map them at most a few times a second.
    stepsChanged_.setSingleShot(true);
    stepsChanged_.setInterval(250);
    connect(&stepsChanged_, &QTimer::timeout, this, &CacheBrowser::mapSteps);
}

void CacheBrowser::followSteps(const StepsModel* steps)
{
    if (steps_)
        disconnect(steps_, nullptr, this, nullptr);
    steps_ = steps;
    if (steps_) {
        const auto later = [this] { stepsChanged(); };
        connect(steps_, &QAbstractItemModel::modelReset, this, later);
        connect(steps_, &QAbstractItemModel::dataChanged, this, later);
        connect(steps_, &QAbstractItemModel::rowsInserted, this, later);
        connect(steps_, &QAbstractItemModel::rowsRemoved, this, later);
    }
    mapSteps();
}

void CacheBrowser::stepsChanged()
{
    // A build changes its steps many times a second: mapped a moment later, and only while the
    // browser is on screen (its tab shown); a hidden browser catches up when it is shown again.
    if (isVisibleTo(window()))
        stepsChanged_.start();
    else
        stale_ = true;
}

bool CacheBrowser::event(QEvent* e)
{
    if (e->type() == QEvent::ShowToParent && stale_)
        stepsChanged_.start();
    return QWidget::event(e);
}

QString CacheBrowser::stepSummary() const
{
    return stepSummary_->text();
}

void CacheBrowser::mapSteps()
{
    stepsChanged_.stop();
    stale_ = false;
    BuildStepMap map;
    if (steps_ && imported_ && imported_->ok)
        map = mapBuildSteps(*steps_, QString::fromStdString(imported_->spec.raw));
    // Count the records of the shown graph the build keys to, and those that served it.
    int used = 0;
    int served = 0;
    const int platform = std::max(0, platform_->currentIndex());
    if (!map.isEmpty() && static_cast<std::size_t>(platform) < imported_->graphs.size()) {
        const cache::KeyGraph& g = imported_->graphs[static_cast<std::size_t>(platform)].graph;
        QSet<QString> seen;
        for (std::size_t i = 0; i < g.itemCount(); ++i) {
            const QString digest = QString::fromStdString(g.digest(static_cast<cache::ItemId>(i)).str());
            const auto it = map.constFind(digest);
            if (it == map.constEnd() || seen.contains(digest))
                continue;
            seen.insert(digest);
            ++used;
            served += it->servedHere ? 1 : 0;
        }
    }
    stepSummary_->setText(map.isEmpty() ? QString()
                                        : tr("Current build: %n record(s) of this source are keys of its steps", nullptr, used) +
                                              tr(" · %n served a step from here (marked CACHED)", nullptr, served));
    stepSummary_->setVisible(!map.isEmpty());
    graphView_->setStepMap(map);
    records_->setStepMap(std::move(map));
    // Long RUN lines: the column shows their start, the tooltip all of them.
    recordsView_->resizeColumnToContents(RecordsModel::StepColumn);
    recordsView_->setColumnWidth(RecordsModel::StepColumn, std::min(recordsView_->columnWidth(RecordsModel::StepColumn), 420));
}

void CacheBrowser::showSource(std::shared_ptr<const cache::ImportedCache> imported)
{
    imported_ = std::move(imported);
    problems_->clear();
    platform_->blockSignals(true);
    platform_->clear();
    if (!imported_) {
        header_->setText(tr("Select a cache source to browse its records."));
    } else if (!imported_->ok) {
        header_->setText(tr("<b>Import failed</b>: %1").arg(QString::fromStdString(imported_->error).toHtmlEscaped()));
    } else {
        header_->setText(tr("<b>%1</b><br>%2 · manifest %3 · config %4 bytes")
                             .arg(QString::fromStdString(imported_->source).toHtmlEscaped(),
                                  summarizeImport(*imported_).toHtmlEscaped(),
                                  QString::fromStdString(imported_->manifestDigest.shortForm()))
                             .arg(imported_->configSize));
        for (const auto& g : imported_->graphs)
            platform_->addItem(g.platform.empty() ? tr("cache config") : QString::fromStdString(g.platform));
        for (const auto& p : imported_->problems)
            problems_->addItem(QStringLiteral("%1: %2").arg(QString::fromStdString(p.kind), QString::fromStdString(p.message)));
    }
    platform_->setVisible(platform_->count() > 1);
    platform_->blockSignals(false);
    tabs_->setTabText(2, tr("Problems (%1)").arg(problems_->count()));
    showGraph(0);
}

void CacheBrowser::showGraph(int index)
{
    const cache::ImportedGraph* graph = nullptr;
    if (imported_ && imported_->ok && index >= 0 && static_cast<std::size_t>(index) < imported_->graphs.size())
        graph = &imported_->graphs[static_cast<std::size_t>(index)];
    graphView_->setGraph(imported_, graph);
    records_->setGraph(imported_, graph);
    layers_->setGraph(imported_, graph);
    mapSteps();
    recordsView_->resizeColumnsToContents();
    layersView_->resizeColumnsToContents();
}

} // namespace cachescope::ui
