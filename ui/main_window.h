#pragma once
// The main window assembles the panels and wires them to the engine worker; it holds no logic
// of its own.
#include <QMainWindow>
#include <memory>

class QLabel;
class QMenu;
class QTabWidget;

namespace cachescope::cache {
struct ImportedCache;
}
namespace cachescope::solver {
struct DryRunReport;
}

namespace cachescope::ui {

class BuildPanel;
class CacheBrowser;
class EngineWorker;
class LiveBuild;
class SourceListModel;
class SourcesPanel;
class StepDetails;
class StepsModel;
class StepsView;
struct DemoProject;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Replaces the sources with these specs and imports them.
    void openSources(const QStringList& specs);
    // Opens the bundled demo: its caches as sources, its project in the build panel, a Demo menu to
    // switch to the changed project; plans once the imports are done.
    void openDemo(const QString& demoDir);
    // Opens a project by its context directory: what was remembered for it (request and sources),
    // else just the directory with the current sources.
    void openProject(const QString& contextDir);
    SourceListModel* sources() const { return sources_; }
    SourcesPanel* sourcesPanel() const { return sourcesPanel_; }
    CacheBrowser* cacheBrowser() const { return browser_; }
    BuildPanel* buildPanel() const { return buildPanel_; }
    StepsModel* steps() const { return steps_; }
    StepsView* stepsView() const { return stepsView_; }
    StepDetails* stepDetails() const { return details_; }
    QTabWidget* tabs() const { return tabs_; }
    QLabel* failureBanner() const { return banner_; }
    LiveBuild* liveBuild() const { return live_; }

public slots:
    void importAll();
    // Plans the build of the build panel against the enabled sources (on the engine's threads).
    void plan();
    // Builds the build panel's project for real (withImport=false: cold, every step runs).
    void build(bool withImport);
    void showDemo(bool changed);

signals:
    void importsFinished();
    void planFinished();
    void planFailed(const QString& error);
    void buildFinished(bool ok, const QString& error);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void connectPlan();
    void connectBuild();
    void updateBannerAndStatus();
    void restoreSettings();
    void showShortcuts();

    SourceListModel* sources_ = nullptr;
    SourcesPanel* sourcesPanel_ = nullptr;
    CacheBrowser* browser_ = nullptr;
    BuildPanel* buildPanel_ = nullptr;
    StepsModel* steps_ = nullptr;
    StepsView* stepsView_ = nullptr;
    StepDetails* details_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QLabel* banner_ = nullptr;
    EngineWorker* worker_ = nullptr;
    LiveBuild* live_ = nullptr;
    std::unique_ptr<DemoProject> demo_;
    QMenu* demoMenu_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    bool planAfterImports_ = false;
};

} // namespace cachescope::ui
