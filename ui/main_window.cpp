#include "main_window.h"

#include "browser/cache_browser.h"
#include "cache/imported_cache.h"
#include "engine_worker.h"
#include "models/source_list_model.h"
#include "sources/sources_panel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace cachescope::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("CacheScope"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/cachescope.svg")));

    sources_ = new SourceListModel(this);
    worker_ = new EngineWorker(this);
    sourcesPanel_ = new SourcesPanel(sources_, this);
    browser_ = new CacheBrowser(this);

    // A failed source is never silent: a banner across the central view names it.
    banner_ = new QLabel(this);
    banner_->setWordWrap(true);
    banner_->setAccessibleName(tr("Failed cache sources"));
    banner_->setStyleSheet(QStringLiteral("QLabel { background: #b3261e; color: white; padding: 6px; }"));
    banner_->setVisible(false);

    tabs_ = new QTabWidget(this);
    tabs_->addTab(browser_, tr("Cache browser"));

    auto* center = new QWidget(this);
    auto* centerLayout = new QVBoxLayout(center);
    centerLayout->setContentsMargins(0, 0, 0, 0);
    centerLayout->addWidget(banner_);
    centerLayout->addWidget(tabs_, 1);

    auto* split = new QSplitter(this);
    split->addWidget(sourcesPanel_);
    split->addWidget(center);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setSizes({340, 860});
    setCentralWidget(split);

    connect(sourcesPanel_, &SourcesPanel::importRequested, this, &MainWindow::importAll);
    connect(sourcesPanel_, &SourcesPanel::currentSourceChanged, this, [this](int row) {
        browser_->showSource(row >= 0 ? sources_->entry(row).imported : nullptr);
    });
    connect(worker_, &EngineWorker::sourceImporting, sources_, &SourceListModel::markImporting);
    connect(worker_, &EngineWorker::sourceImported, this,
            [this](int row, std::shared_ptr<const cache::ImportedCache> imported) {
                sources_->setImported(row, imported);
                if (row == sourcesPanel_->currentRow())
                    browser_->showSource(imported);
                updateBannerAndStatus();
            });
    connect(worker_, &EngineWorker::importsFinished, this, &MainWindow::importsFinished);
    connect(sources_, &SourceListModel::sourcesChanged, this, &MainWindow::updateBannerAndStatus);

    createActions();
    restoreSettings();
    updateBannerAndStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* sourcesMenu = menuBar()->addMenu(tr("&Sources"));
    QAction* add = sourcesMenu->addAction(tr("&Add cache source…"), sourcesPanel_, &SourcesPanel::addSourceInteractively);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
    QAction* reimport = sourcesMenu->addAction(tr("&Import all"), this, &MainWindow::importAll);
    reimport->setShortcut(QKeySequence(Qt::Key_F5));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About CacheScope"), this, [this] {
        QMessageBox::about(this, tr("About CacheScope"),
                           tr("<b>CacheScope</b><br>Shows which BuildKit cache records a build can use, "
                              "from which source, and why a step misses."));
    });
}

void MainWindow::openSources(const QStringList& specs)
{
    sources_->setSpecs(specs);
    importAll();
}

void MainWindow::importAll()
{
    worker_->importSources(sources_->specs());
}

void MainWindow::updateBannerAndStatus()
{
    QStringList failures;
    int imported = 0;
    for (int row = 0; row < sources_->rowCount(); ++row) {
        const SourceEntry& e = sources_->entry(row);
        if (!e.enabled)
            continue;
        if (e.state == SourceEntry::State::Failed)
            failures << e.summary;
        else if (e.state == SourceEntry::State::Imported)
            ++imported;
    }
    banner_->setText(failures.isEmpty() ? QString()
                                        : tr("%n source(s) failed to import; builds run without them:\n", nullptr,
                                             static_cast<int>(failures.size())) +
                                              failures.join(QLatin1Char('\n')));
    banner_->setVisible(!failures.isEmpty());
    statusBar()->showMessage(tr("%1 source(s) · %2 imported · %3 failed")
                                 .arg(sources_->rowCount())
                                 .arg(imported)
                                 .arg(failures.size()));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1200, 760);
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("sources"), sources_->specs());
    event->accept();
}

} // namespace cachescope::ui
