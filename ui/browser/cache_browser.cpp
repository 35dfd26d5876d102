#include "browser/cache_browser.h"

#include "browser/key_graph_view.h"
#include "cache/imported_cache.h"
#include "models/layers_model.h"
#include "models/records_model.h"
#include "models/source_list_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
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
    layout->addWidget(split, 1);

    connect(platform_, &QComboBox::currentIndexChanged, this, &CacheBrowser::showGraph);
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
    recordsView_->resizeColumnsToContents();
    layersView_->resizeColumnsToContents();
}

} // namespace cachescope::ui
