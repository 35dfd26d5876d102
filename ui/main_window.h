#pragma once
// The main window assembles the panels and wires them to the engine worker; it holds no logic
// of its own.
#include <QMainWindow>
#include <memory>

class QLabel;
class QTabWidget;

namespace cachescope::cache {
struct ImportedCache;
}

namespace cachescope::ui {

class CacheBrowser;
class EngineWorker;
class SourceListModel;
class SourcesPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Replaces the sources with these specs and imports them.
    void openSources(const QStringList& specs);
    SourceListModel* sources() const { return sources_; }
    SourcesPanel* sourcesPanel() const { return sourcesPanel_; }
    CacheBrowser* cacheBrowser() const { return browser_; }
    QLabel* failureBanner() const { return banner_; }

public slots:
    void importAll();

signals:
    void importsFinished();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void updateBannerAndStatus();
    void restoreSettings();

    SourceListModel* sources_ = nullptr;
    SourcesPanel* sourcesPanel_ = nullptr;
    CacheBrowser* browser_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QLabel* banner_ = nullptr;
    EngineWorker* worker_ = nullptr;
};

} // namespace cachescope::ui
