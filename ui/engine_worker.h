#pragma once
// The bridge between the GUI and the engine: engine calls run on worker threads, results come
// back as queued Qt signals. Nothing here blocks the GUI thread.
#include "buildpanel/build_request.h"

#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <atomic>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
}
namespace cachescope::solver {
struct DryRunReport;
}

namespace cachescope::ui {

class EngineWorker : public QObject {
    Q_OBJECT
public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

    // Imports every spec in parallel; each result arrives through sourceImported. A new call
    // supersedes the previous one: late results of an older generation are dropped.
    void importSources(const QStringList& specs);

    // Plans the build (solver::dryRun) with these cache sources on a worker thread; the report
    // arrives through planFinished, bad input through planFailed. A new plan supersedes a running one.
    void plan(const BuildRequest& request, const QStringList& cacheSpecs);
    // Stops waiting for the running plan: registry transfers stop at once, the rest of the dry run
    // finishes in the background and its result is dropped.
    void cancelPlan();
    bool planRunning() const { return planRunning_; }

    // Parses a Dockerfile on a worker thread; its named stages arrive through stagesParsed.
    void parseStages(const QString& dockerfile);

signals:
    void sourceImporting(int row);
    void sourceImported(int row, std::shared_ptr<const cachescope::cache::ImportedCache> imported);
    void importsFinished();

    void planStarted();
    void planFinished(std::shared_ptr<const cachescope::solver::DryRunReport> report);
    void planFailed(const QString& error);
    void planCancelled();

    void stagesParsed(const QString& dockerfile, const QStringList& stages, const QString& error);

private:
    QThreadPool pool_;
    quint64 generation_ = 0;
    int pending_ = 0;
    quint64 planGeneration_ = 0;
    bool planRunning_ = false;
    std::shared_ptr<std::atomic<bool>> planCancel_;
    quint64 parseGeneration_ = 0;
};

} // namespace cachescope::ui
