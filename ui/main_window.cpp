#include "main_window.h"

#include "browser/cache_browser.h"
#include "buildpanel/build_panel.h"
#include "cache/imported_cache.h"
#include "compare/compare_view.h"
#include "demo_project.h"
#include "engine_worker.h"
#include "history/history_view.h"
#include "models/live_build.h"
#include "models/source_list_model.h"
#include "models/steps_model.h"
#include "project_settings.h"
#include "solver/dry_run.h"
#include "sources/sources_panel.h"
#include "steps/step_details.h"
#include "steps/steps_view.h"

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
#include <QTimer>
#include <QVBoxLayout>

namespace cachescope::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("CacheScope"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/cachescope.svg")));

    sources_ = new SourceListModel(this);
    steps_ = new StepsModel(this);
    worker_ = new EngineWorker(this);
    sourcesPanel_ = new SourcesPanel(sources_, this);
    browser_ = new CacheBrowser(this);
    buildPanel_ = new BuildPanel(this);
    stepsView_ = new StepsView(steps_, this);
    details_ = new StepDetails(this);

    // A failed source is never silent: a banner across the central view names it.
    banner_ = new QLabel(this);
    banner_->setWordWrap(true);
    banner_->setAccessibleName(tr("Failed cache sources"));
    banner_->setStyleSheet(QStringLiteral("QLabel { background: #b3261e; color: white; padding: 6px; }"));
    banner_->setVisible(false);

    auto* stepsSplit = new QSplitter(this);
    stepsSplit->addWidget(stepsView_);
    stepsSplit->addWidget(details_);
    stepsSplit->setStretchFactor(0, 3);
    stepsSplit->setStretchFactor(1, 2);
    stepsSplit->setSizes({780, 340});

    tabs_ = new QTabWidget(this);
    tabs_->addTab(stepsSplit, tr("&Steps"));
    tabs_->addTab(browser_, tr("Cache &browser"));
    auto* compare = new CompareView(this);
    tabs_->addTab(compare, tr("C&ompare"));
    auto* history = new HistoryView(this);
    tabs_->addTab(history, tr("Histor&y"));
    connect(compare, &CompareView::compareRequested, this, [this, compare](int runs) {
        compare->start(buildPanel_->request(), sources_->enabledSpecs(), runs);
    });
    connect(worker_, &EngineWorker::buildFinished, history, &HistoryView::refresh); // each build adds a record

    auto* center = new QWidget(this);
    auto* centerLayout = new QVBoxLayout(center);
    centerLayout->setContentsMargins(0, 0, 0, 0);
    centerLayout->addWidget(buildPanel_);
    centerLayout->addWidget(banner_);
    centerLayout->addWidget(tabs_, 1);

    auto* split = new QSplitter(this);
    split->addWidget(sourcesPanel_);
    split->addWidget(center);
    split->setStretchFactor(0, 0); // a wider window widens the steps, not the sources
    split->setStretchFactor(1, 1);
    sourcesPanel_->setMinimumWidth(200);
    // The source list's size hint follows its longest spec: give it a fixed share once laid out.
    QTimer::singleShot(0, split, [split] { split->setSizes({280, std::max(600, split->width() - 280)}); });
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
    connect(worker_, &EngineWorker::importsFinished, this, [this] {
        emit importsFinished();
        if (planAfterImports_) {
            planAfterImports_ = false;
            plan();
        }
    });
    connect(sources_, &SourceListModel::sourcesChanged, this, &MainWindow::updateBannerAndStatus);
    browser_->followSteps(steps_);
    connect(stepsView_, &StepsView::currentStepChanged, details_, &StepDetails::showStep);
    connectPlan();
    connectBuild();

    createActions();
    restoreSettings();
    updateBannerAndStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::connectPlan()
{
    connect(buildPanel_, &BuildPanel::planRequested, this, &MainWindow::plan);
    connect(buildPanel_, &BuildPanel::cancelRequested, worker_, &EngineWorker::cancel);
    connect(buildPanel_, &BuildPanel::dockerfileChanged, worker_, &EngineWorker::parseStages);
    connect(worker_, &EngineWorker::stagesParsed, buildPanel_, &BuildPanel::setStages);
    connect(worker_, &EngineWorker::planStarted, this, [this] {
        buildPanel_->setRunning(true);
        steps_->setAllStatuses(StepInfo::Status::Checking);
        stepsView_->setMessage(tr("Planning %1 against %2 cache source(s)…")
                                   .arg(buildPanel_->request().context)
                                   .arg(sources_->enabledSpecs().size()));
    });
    connect(worker_, &EngineWorker::planFinished, this, [this](std::shared_ptr<const solver::DryRunReport> report) {
        buildPanel_->setRunning(false);
        steps_->applyReport(*report);
        int steps = 0, cached = 0, run = 0, depends = 0, failedSources = 0;
        for (const auto& s : report->steps) {
            if (s.isFrom)
                continue;
            ++steps;
            cached += s.cached;
            run += !s.cached && !s.dependsOnStage;
            depends += s.dependsOnStage;
        }
        for (const auto& s : report->sources)
            failedSources += !s.ok;
        QString msg = tr("%1/%2 steps cached · %3 would run").arg(cached).arg(steps).arg(run);
        if (depends > 0)
            msg += tr(" · %1 depend on a stage output").arg(depends);
        if (failedSources > 0)
            msg += failedSources == 1 ? tr(" · 1 source failed: planned without it")
                                      : tr(" · %1 sources failed: planned without them").arg(failedSources);
        msg += tr(" · target %1 · %2")
                   .arg(report->target.empty() ? tr("(last stage)") : QString::fromStdString(report->target),
                        QString::fromStdString(report->platform));
        stepsView_->setMessage(msg);
        statusBar()->showMessage(msg);
        emit planFinished();
    });
    connect(worker_, &EngineWorker::planFailed, this, [this](const QString& error) {
        buildPanel_->setRunning(false);
        steps_->setAllStatuses(StepInfo::Status::Waiting);
        stepsView_->setMessage(tr("Plan failed: %1").arg(error));
        statusBar()->showMessage(tr("Plan failed"));
        emit planFailed(error);
    });
    connect(worker_, &EngineWorker::planCancelled, this, [this] {
        buildPanel_->setRunning(false);
        steps_->setAllStatuses(StepInfo::Status::Waiting);
        stepsView_->setMessage(tr("Plan cancelled."));
    });
}

void MainWindow::connectBuild()
{
    live_ = new LiveBuild(steps_, this);
    live_->follow(worker_);
    connect(buildPanel_, &BuildPanel::buildRequested, this, &MainWindow::build);
    // A project opened before comes back with its sources and settings.
    connect(buildPanel_, &BuildPanel::contextChosen, this, [this](const QString& dir) {
        if (ProjectSettings::project(dir))
            openProject(dir);
    });
    connect(worker_, &EngineWorker::buildStarted, this, [this] {
        buildPanel_->setRunning(true);
        tabs_->setCurrentIndex(0);
    });
    connect(live_, &LiveBuild::summaryChanged, this, [this](const QString& summary) {
        stepsView_->setMessage(summary);
        statusBar()->showMessage(summary);
    });
    connect(live_, &LiveBuild::finished, this, [this](bool ok, const QString& error) {
        buildPanel_->setRunning(false);
        emit buildFinished(ok, error);
    });
}

void MainWindow::createActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Choose &Dockerfile…"), buildPanel_, &BuildPanel::chooseDockerfile);
    file->addAction(tr("Choose build &context…"), buildPanel_, &BuildPanel::chooseContext);
    recentMenu_ = file->addMenu(tr("Open &recent project"));
    connect(recentMenu_, &QMenu::aboutToShow, this, [this] {
        recentMenu_->clear();
        for (const QString& dir : ProjectSettings::recentProjects())
            recentMenu_->addAction(dir, this, [this, dir] { openProject(dir); });
        if (recentMenu_->isEmpty())
            recentMenu_->addAction(tr("(none yet: plan or build a project)"))->setEnabled(false);
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* build = menuBar()->addMenu(tr("&Build"));
    build->addAction(buildPanel_->planAction());
    build->addAction(buildPanel_->buildAction());
    build->addAction(buildPanel_->buildWithoutImportAction());
    build->addAction(buildPanel_->cancelAction());

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* missesOnly = view->addAction(tr("&Misses only"));
    missesOnly->setCheckable(true);
    missesOnly->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    connect(missesOnly, &QAction::toggled, stepsView_, &StepsView::setMissesOnly);
    connect(stepsView_, &StepsView::missesOnlyChanged, missesOnly, &QAction::setChecked);
    QAction* jump = view->addAction(tr("Jump to first &miss"), this, [this] {
        tabs_->setCurrentIndex(0);
        stepsView_->jumpToFirstMiss();
    });
    jump->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_J));

    QMenu* sourcesMenu = menuBar()->addMenu(tr("&Sources"));
    QAction* add = sourcesMenu->addAction(tr("&Add cache source…"), sourcesPanel_, &SourcesPanel::addSourceInteractively);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
    QAction* reimport = sourcesMenu->addAction(tr("&Import all"), this, &MainWindow::importAll);
    reimport->setShortcut(QKeySequence(Qt::Key_F5));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    help->addAction(tr("&About CacheScope"), this, [this] {
        QMessageBox::about(this, tr("About CacheScope"),
                           tr("<b>CacheScope</b><br>Shows which BuildKit cache records a build can use, "
                              "from which source, and why a step misses."));
    });
}

void MainWindow::showShortcuts()
{
    QMessageBox::information(this, tr("Keyboard shortcuts"),
                             tr("<table>"
                                "<tr><td><b>F6</b></td><td>Plan the build against the enabled cache sources</td></tr>"
                                "<tr><td><b>Ctrl+B</b></td><td>Build with the enabled cache sources imported</td></tr>"
                                "<tr><td><b>Ctrl+Shift+B</b></td><td>Build without import (cold: every step runs)</td></tr>"
                                "<tr><td><b>Esc</b></td><td>Cancel the running build or plan</td></tr>"
                                "<tr><td><b>Ctrl+J</b></td><td>Jump to the first miss</td></tr>"
                                "<tr><td><b>Ctrl+M</b></td><td>Show misses only</td></tr>"
                                "<tr><td><b>Ctrl+N</b></td><td>Add a cache source</td></tr>"
                                "<tr><td><b>F5</b></td><td>Import every source again</td></tr>"
                                "<tr><td><b>Ctrl+1 / Ctrl+2</b></td><td>Demo: plan the project / the changed project</td></tr>"
                                "<tr><td><b>Ctrl+Q</b></td><td>Quit</td></tr>"
                                "</table>"));
}

void MainWindow::openSources(const QStringList& specs)
{
    sources_->setSpecs(specs);
    importAll();
}

void MainWindow::openDemo(const QString& demoDir)
{
    demo_ = std::make_unique<DemoProject>(DemoProject{demoDir});
    buildPanel_->setContextChoices({demo_->project(), demo_->changedProject()});
    buildPanel_->setRequest(demo_->request(false));
    if (!demoMenu_) {
        demoMenu_ = menuBar()->addMenu(tr("&Demo"));
        QAction* original = demoMenu_->addAction(tr("Plan the demo &project"), this, [this] { showDemo(false); });
        original->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
        QAction* changed = demoMenu_->addAction(tr("Plan the demo with src/two.txt &changed"), this, [this] { showDemo(true); });
        changed->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
        // Keep Help last.
        menuBar()->insertMenu(menuBar()->actions().constLast(), demoMenu_);
    }
    planAfterImports_ = true;
    openSources(demo_->cacheSpecs());
}

void MainWindow::openProject(const QString& contextDir)
{
    const std::optional<RememberedProject> remembered = ProjectSettings::project(contextDir);
    if (!remembered) {
        BuildRequest r;
        r.context = contextDir;
        buildPanel_->setRequest(r);
        return;
    }
    buildPanel_->setRequest(remembered->request);
    openSources(remembered->sourceSpecs);
}

void MainWindow::showDemo(bool changed)
{
    if (!demo_)
        return;
    buildPanel_->setRequest(demo_->request(changed));
    tabs_->setCurrentIndex(0);
    plan();
}

void MainWindow::importAll()
{
    worker_->importSources(sources_->specs());
}

void MainWindow::plan()
{
    const BuildRequest request = buildPanel_->request();
    if (request.context.isEmpty()) {
        stepsView_->setMessage(tr("Choose a build context (and a Dockerfile, if it is not <context>/Dockerfile), then Plan."));
        return;
    }
    ProjectSettings::remember(request, sources_->specs());
    worker_->plan(request, sources_->enabledSpecs(), sources_->finishedImports());
}

void MainWindow::build(bool withImport)
{
    const BuildRequest request = buildPanel_->request();
    if (request.context.isEmpty()) {
        stepsView_->setMessage(tr("Choose a build context (and a Dockerfile, if it is not <context>/Dockerfile), then Build."));
        return;
    }
    ProjectSettings::remember(request, sources_->specs());
    worker_->build(request, sources_->enabledSpecs(), sources_->finishedImports(), withImport);
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
    const QString head = failures.size() == 1 ? tr("1 source failed to import; plans and builds run without it:")
                                              : tr("%1 sources failed to import; plans and builds run without them:")
                                                    .arg(failures.size());
    banner_->setText(failures.isEmpty() ? QString() : head + QLatin1Char('\n') + failures.join(QLatin1Char('\n')));
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
        resize(1280, 800);
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
