#include "models/live_build.h"

#include "build/build_session.h"
#include "engine_worker.h"
#include "models/steps_model.h"

#include <QLocale>
#include <QSet>
#include <QTimer>

namespace cachescope::ui {

namespace {
// "[stage-3 4/4] RUN …" -> "stage-3"; "[2/6] WORKDIR /app" -> "" (a one-stage build).
QString stageOf(const QString& name)
{
    if (!name.startsWith(QLatin1Char('[')))
        return {};
    const qsizetype close = name.indexOf(QLatin1Char(']'));
    const QString inside = name.mid(1, close - 1);
    const qsizetype space = inside.lastIndexOf(QLatin1Char(' '));
    return space < 0 ? QString() : inside.left(space);
}

bool isFromStep(const QString& name)
{
    const qsizetype close = name.indexOf(QLatin1String("] "));
    return close >= 0 && name.mid(close + 2).startsWith(QLatin1String("FROM "));
}

QString pulledText(qulonglong bytes)
{
    return QLocale().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeSIFormat);
}

// What a build's run leaves of a plan's verdict: the op's identity stays, the outcome is new.
void forgetOutcome(StepInfo& s)
{
    s.status = StepInfo::Status::Waiting;
    s.evaluated = true;
    s.source.clear();
    s.alsoIn.clear();
    s.cause.clear();
    s.explanation.clear();
    s.changedFiles.clear();
    s.changedFilesComparedWith.clear();
    s.durationMs = -1;
    s.layerBytes = -1;
    s.log.clear();
    s.logDropped = 0;
}
} // namespace

LiveBuild::LiveBuild(StepsModel* model, QObject* parent) : QObject(parent), model_(model) {}

void LiveBuild::follow(EngineWorker* worker)
{
    connect(worker, &EngineWorker::buildStarted, this, &LiveBuild::begin);
    connect(worker, &EngineWorker::buildSourceImported, this, &LiveBuild::sourceImported);
    connect(worker, &EngineWorker::stepPlanned, this, &LiveBuild::stepPlanned);
    connect(worker, &EngineWorker::stepCached, this, &LiveBuild::stepCached);
    connect(worker, &EngineWorker::stepStarted, this, &LiveBuild::stepStarted);
    connect(worker, &EngineWorker::stepLog, this, &LiveBuild::stepLog);
    connect(worker, &EngineWorker::stepMissed, this, &LiveBuild::stepMissed);
    connect(worker, &EngineWorker::stepFinished, this, &LiveBuild::stepFinished);
    connect(worker, &EngineWorker::blobProgress, this, &LiveBuild::blobProgress);
    connect(worker, &EngineWorker::buildFinished, this, &LiveBuild::finish);
}

void LiveBuild::begin(bool withImport)
{
    running_ = true;
    withImport_ = withImport;
    planned_.clear();
    blobDone_.clear();
    failedSources_.clear();
    buildLog_.clear();
    result_.reset();
    clock_.start();
    // Until the engine has imported and planned, every shown step is being checked.
    model_->editAllSteps([](StepInfo& s) {
        forgetOutcome(s);
        s.vertex = 0;
        s.status = StepInfo::Status::Checking;
    });
    scheduleSummary();
}

void LiveBuild::sourceImported(const QString& spec, bool ok, const QString& error, qulonglong)
{
    if (!ok)
        failedSources_ << (error.isEmpty() ? spec : error);
}

void LiveBuild::stepPlanned(int vertex, const QString& name, const QString& key)
{
    StepInfo s;
    s.vertex = vertex;
    s.name = name;
    s.stage = stageOf(name);
    s.isFrom = isFromStep(name);
    s.recordDigest = key;
    planned_ << s;
}

void LiveBuild::commitPlan()
{
    if (planned_.isEmpty())
        return;
    bool sameRows = planned_.size() == model_->stepCount();
    for (qsizetype i = 0; sameRows && i < planned_.size(); ++i)
        sameRows = model_->indexOfStep(planned_[i].name).isValid();
    if (sameRows) {
        QHash<QString, const StepInfo*> byName;
        for (const StepInfo& p : planned_)
            byName.insert(p.name, &p);
        model_->editAllSteps([&byName](StepInfo& s) {
            const StepInfo* p = byName.value(s.name);
            forgetOutcome(s);
            s.vertex = p->vertex;
            s.recordDigest = p->recordDigest;
        });
    } else {
        model_->setSteps(planned_);
    }
    planned_.clear();
}

void LiveBuild::edit(int vertex, const std::function<void(StepInfo&)>& change)
{
    commitPlan();
    const QModelIndex i = model_->indexOfVertex(vertex);
    if (i.isValid())
        model_->editStep(i, change);
    scheduleSummary();
}

void LiveBuild::stepCached(int vertex, const QString& source)
{
    edit(vertex, [&source](StepInfo& s) {
        s.status = StepInfo::Status::Cached;
        s.source = source;
        s.evaluated = !source.isEmpty(); // "": a later step was served, so nothing needed this one
    });
}

void LiveBuild::stepStarted(int vertex)
{
    edit(vertex, [](StepInfo& s) { s.status = StepInfo::Status::Running; });
}

void LiveBuild::stepLog(int vertex, const QStringList& lines)
{
    if (vertex <= 0) {
        buildLog_ += lines;
        return;
    }
    edit(vertex, [&lines](StepInfo& s) { s.appendLog(lines); });
}

void LiveBuild::stepMissed(int vertex, const QString& explanation)
{
    edit(vertex, [&explanation](StepInfo& s) { s.explanation = explanation; });
}

void LiveBuild::stepFinished(int vertex, qint64 durationMs, qulonglong bytes)
{
    edit(vertex, [durationMs, bytes](StepInfo& s) {
        s.status = s.isFrom ? StepInfo::Status::Image : StepInfo::Status::Done;
        if (!s.isFrom) {
            s.durationMs = durationMs;
            s.layerBytes = bytes > 0 ? static_cast<qint64>(bytes) : -1;
        }
    });
}

void LiveBuild::blobProgress(const QString& digest, qulonglong done, qulonglong)
{
    blobDone_[digest] = done;
    scheduleSummary();
}

void LiveBuild::finish(std::shared_ptr<const build::BuildResult> result)
{
    commitPlan();
    running_ = false;
    result_ = result;
    using State = build::StepOutcome::State;
    // The result is the engine's last word on every step (a step still running when another failed
    // or the build was cancelled is Pending there: it did not finish).
    QHash<int, const build::StepOutcome*> byVertex;
    for (const build::StepOutcome& o : result->steps)
        byVertex.insert(o.vertex, &o);
    model_->editAllSteps([&byVertex](StepInfo& s) {
        const build::StepOutcome* o = byVertex.value(s.vertex);
        if (!o)
            return;
        switch (o->state) {
        case State::Cached:
            s.status = StepInfo::Status::Cached;
            s.source = QString::fromStdString(o->source);
            s.evaluated = true;
            break;
        case State::NotEvaluated:
            s.status = StepInfo::Status::Cached;
            s.source.clear();
            s.evaluated = false;
            break;
        case State::Ran:
            s.status = s.isFrom ? StepInfo::Status::Image : StepInfo::Status::Done;
            if (!s.isFrom)
                s.durationMs = o->duration.count();
            break;
        case State::Failed: s.status = StepInfo::Status::Error; break;
        case State::Pending: s.status = StepInfo::Status::Waiting; break;
        }
    });
    if (result->steps.empty()) // bad input: nothing was planned
        model_->editAllSteps([](StepInfo& s) { forgetOutcome(s); });
    summaryPending_ = false;
    emit summaryChanged(summary());
    emit finished(result->ok, QString::fromStdString(result->error));
}

void LiveBuild::scheduleSummary()
{
    if (summaryPending_)
        return;
    summaryPending_ = true;
    QTimer::singleShot(0, this, [this] {
        if (!summaryPending_)
            return;
        summaryPending_ = false;
        emit summaryChanged(summary());
    });
}

QString LiveBuild::summary() const
{
    int steps = 0, cached = 0, running = 0, ran = 0;
    model_->visitSteps([&](const StepInfo& s) {
        if (s.isFrom)
            return;
        ++steps;
        cached += s.status == StepInfo::Status::Cached;
        running += s.status == StepInfo::Status::Running;
        ran += s.status == StepInfo::Status::Done;
    });
    qulonglong pulled = 0;
    if (result_) {
        pulled = result_->bytesPulled;
    } else {
        for (qulonglong b : blobDone_)
            pulled += b;
    }
    const double seconds = static_cast<double>(result_ ? result_->timings.total.count() : clock_.elapsed()) / 1000.0;
    QStringList parts;
    parts << tr("%1/%2 cached").arg(cached).arg(steps) << tr("%1 ran").arg(ran)
          << tr("%1 pulled").arg(pulledText(pulled))
          << (result_ ? tr("%1 s total") : tr("%1 s")).arg(seconds, 0, 'f', 1);
    if (running > 0)
        parts << tr("%1 running").arg(running);
    if (!withImport_)
        parts << tr("without import");
    if (!failedSources_.isEmpty())
        parts << (failedSources_.size() == 1 ? tr("1 source failed: built without it")
                                             : tr("%1 sources failed: built without them").arg(failedSources_.size()));
    if (result_)
        for (const std::string& e : result_->cacheExports)
            parts << tr("cache export %1").arg(QString::fromStdString(e));
    const QString text = parts.join(QStringLiteral(" · "));
    if (!result_)
        return tr("Building… %1").arg(text);
    return result_->ok ? text : tr("Build failed: %1 · %2").arg(QString::fromStdString(result_->error), text);
}

} // namespace cachescope::ui
