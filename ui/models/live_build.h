#pragma once
// Drives the steps model from a running build's events: rows turn waiting, CACHED (with the serving
// source), running, done (with duration and layer size) or error, collect their RUN output and the
// engine's explanation of a miss; the build's result settles every row at the end. Also keeps the
// one-line summary "N/M cached · X pulled · T s".
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QStringList>
#include <functional>
#include <memory>

namespace cachescope::build {
struct BuildResult;
}

namespace cachescope::ui {

class EngineWorker;
class StepsModel;
struct StepInfo;

class LiveBuild : public QObject {
    Q_OBJECT
public:
    LiveBuild(StepsModel* model, QObject* parent = nullptr);

    // Connects every build signal of the worker to this tracker.
    void follow(EngineWorker* worker);
    bool running() const { return running_; }
    QString summary() const;
    // The last finished build's result (nullptr before the first or while one runs).
    const std::shared_ptr<const build::BuildResult>& result() const { return result_; }
    // The build's own messages (StepLog of vertex 0), e.g. a local cache that could not be updated.
    const QStringList& buildLog() const { return buildLog_; }

public slots:
    void begin(bool withImport);
    void sourceImported(const QString& spec, bool ok, const QString& error, qulonglong records);
    void stepPlanned(int vertex, const QString& name, const QString& key);
    void stepCached(int vertex, const QString& source);
    void stepStarted(int vertex);
    void stepLog(int vertex, const QStringList& lines);
    void stepMissed(int vertex, const QString& explanation);
    void stepFinished(int vertex, qint64 durationMs, qulonglong bytes);
    void blobProgress(const QString& digest, qulonglong done, qulonglong total);
    void finish(std::shared_ptr<const cachescope::build::BuildResult> result);

signals:
    // The summary changed (at most once per event-loop turn).
    void summaryChanged(const QString& summary);
    void finished(bool ok, const QString& error);

private:
    // The planned steps replace the rows, or update them in place when they are the rows already
    // shown (a plan's details, such as the inputs and the hashed key, stay with them).
    void commitPlan();
    void edit(int vertex, const std::function<void(StepInfo&)>& change);
    void scheduleSummary();

    StepsModel* model_;
    bool running_ = false;
    bool withImport_ = true;
    QList<StepInfo> planned_;
    QHash<QString, qulonglong> blobDone_;
    QStringList failedSources_;
    QStringList buildLog_;
    QElapsedTimer clock_;
    std::shared_ptr<const build::BuildResult> result_;
    bool summaryPending_ = false;
};

} // namespace cachescope::ui
