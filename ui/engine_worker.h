#pragma once
// The bridge between the GUI and the engine: engine calls run on worker threads, results come
// back as queued Qt signals. Nothing here blocks the GUI thread.
#include "buildpanel/build_request.h"
#include "cache/cache_importer.h"

#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <QTimer>
#include <memory>
#include <stop_token>

namespace cachescope::solver {
struct DryRunReport;
}
namespace cachescope::build {
struct BuildResult;
}

namespace cachescope::ui {

class BuildEventQueue;

class EngineWorker : public QObject {
    Q_OBJECT
public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

    // Imports every spec in parallel; each result arrives through sourceImported. A new call
    // supersedes the previous one: its registry transfers stop and its late results are dropped.
    void importSources(const QStringList& specs);

    // Plans the build (solver::dryRun) with these cache sources on a worker thread; the report
    // arrives through planFinished, bad input through planFailed. A new plan supersedes a running one.
    // `imported`: sources the panel already imported (by spec), used as they are, not imported again.
    void plan(const BuildRequest& request, const QStringList& cacheSpecs, const cache::PreImported& imported = {});
    // Stops waiting for the running plan: registry transfers stop at once, the rest of the dry run
    // finishes in the background and its result is dropped.
    void cancelPlan();
    bool planRunning() const { return planRunning_; }

    // Runs one real build (build::BuildSession) on a worker thread and re-emits its events as the
    // step* signals below, in order, in batches every ~50 ms; the result arrives through
    // buildFinished. With import, the enabled cache sources are imported and matched; without, the
    // build is cold (no sources, no local store hits: every step runs). One build at a time: false
    // while one runs. Bad input (a cache spec, a cache export) ends at once in a failed result.
    bool build(const BuildRequest& request, const QStringList& cacheSpecs, const cache::PreImported& imported,
               bool withImport);
    // Asks the running build to stop; it ends (failed, "build cancelled") at its next check.
    void cancelBuild();
    bool buildRunning() const { return buildRunning_; }
    // Esc: cancels the running build and the running plan.
    void cancel();

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

    // One signal per build::BuildEvent type (BuildFinished comes with the whole result).
    void buildStarted(bool withImport);
    void buildSourceImported(const QString& spec, bool ok, const QString& error, qulonglong records);
    void stepPlanned(int vertex, const QString& name, const QString& key);
    void stepCached(int vertex, const QString& source);
    void stepStarted(int vertex);
    // Consecutive output lines of one step (vertex 0: the build's own messages).
    void stepLog(int vertex, const QStringList& lines);
    void stepMissed(int vertex, const QString& explanation);
    void stepFinished(int vertex, qint64 durationMs, qulonglong bytes);
    // The latest progress of each blob in a batch.
    void blobProgress(const QString& digest, qulonglong done, qulonglong total);
    void buildFinished(std::shared_ptr<const cachescope::build::BuildResult> result);

private:
    void deliverBuildEvents();
    void finishBuild(std::shared_ptr<const build::BuildResult> result);

    QThreadPool pool_;
    quint64 generation_ = 0;
    int pending_ = 0;
    std::stop_source importStop_;
    quint64 planGeneration_ = 0;
    bool planRunning_ = false;
    std::stop_source planStop_;
    bool buildRunning_ = false;
    std::stop_source buildStop_;
    std::shared_ptr<BuildEventQueue> buildEvents_;
    QTimer buildTick_;
    quint64 parseGeneration_ = 0;
};

} // namespace cachescope::ui
