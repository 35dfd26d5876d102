#include "engine_worker.h"

#include "base/error.h"
#include "build/build_session.h"
#include "build_event_queue.h"
#include "buildpanel/build_request_options.h"
#include "cache/cache_export_spec.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"
#include "base/files.h"
#include "dockerfile/instructions.h"
#include "solver/dry_run.h"

#include <QMetaObject>

namespace cachescope::ui {

EngineWorker::EngineWorker(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<std::shared_ptr<const cachescope::cache::ImportedCache>>();
    qRegisterMetaType<std::shared_ptr<const cachescope::solver::DryRunReport>>();
    qRegisterMetaType<std::shared_ptr<const cachescope::build::BuildResult>>();
    pool_.setMaxThreadCount(8); // imports wait on the network more than on the CPU
    // A person cannot tell 50 ms from instant; a build's event flood costs one GUI update per tick.
    buildTick_.setInterval(50);
    connect(&buildTick_, &QTimer::timeout, this, &EngineWorker::deliverBuildEvents);
}

EngineWorker::~EngineWorker()
{
    importStop_.request_stop();
    planStop_.request_stop();
    buildStop_.request_stop();
    pool_.waitForDone();
}

namespace {
std::shared_ptr<const cache::ImportedCache> importOne(const QString& text, std::stop_token cancel)
{
    auto result = std::make_shared<cache::ImportedCache>();
    try {
        const cache::CacheSpec spec = cache::parseCacheSpec(text.toStdString());
        result = std::make_shared<cache::ImportedCache>(
            std::move(cache::importSources({spec}, cache::defaultProviderFactory([cancel] { return cancel.stop_requested(); })).front()));
    } catch (const Error& e) {
        result->ok = false;
        result->error = text.toStdString() + ": " + e.what();
    }
    return result;
}
} // namespace

void EngineWorker::importSources(const QStringList& specs)
{
    const quint64 generation = ++generation_;
    importStop_.request_stop(); // a superseded import stops its transfers
    importStop_ = std::stop_source();
    const std::stop_token cancel = importStop_.get_token();
    pending_ = static_cast<int>(specs.size());
    if (specs.isEmpty()) {
        emit importsFinished();
        return;
    }
    // The pool is drained in the destructor, so `this` outlives every task.
    EngineWorker* self = this;
    for (int row = 0; row < specs.size(); ++row) {
        emit sourceImporting(row);
        const QString spec = specs[row];
        pool_.start([self, generation, row, spec, cancel] {
            auto imported = importOne(spec, cancel);
            // Back on the GUI thread: drop results of a superseded import.
            QMetaObject::invokeMethod(
                self,
                [self, generation, row, imported] {
                    if (generation != self->generation_)
                        return;
                    emit self->sourceImported(row, imported);
                    if (--self->pending_ == 0)
                        emit self->importsFinished();
                },
                Qt::QueuedConnection);
        });
    }
}

namespace {
// Runs on a worker thread.
solver::DryRunReport runPlan(const BuildRequest& request, const QStringList& specs, const cache::PreImported& imported,
                             std::stop_token cancel)
{
    solver::DryRunOptions o = dryRunOptionsFor(request, specs);
    o.preImported = imported;
    o.cancel = cancel; // a superseded or cancelled plan stops hashing and transferring
    return solver::dryRun(o);
}

// Parses what the GUI thread can check at once (no I/O): bad specs throw Error naming the spec.
build::BuildOptions buildOptions(const BuildRequest& request, const QStringList& specs, const cache::PreImported& imported,
                                 bool withImport, std::stop_token cancel)
{
    build::BuildOptions o = buildOptionsFor(request, withImport ? specs : QStringList());
    if (withImport)
        o.preImported = imported;
    o.noCache = !withImport;
    for (const QString& spec : request.cacheExports)
        o.cacheTo.push_back(cache::parseCacheExportSpec(spec.toStdString()));
    o.registryOptions.cancelled = [cancel] { return cancel.stop_requested(); };
    o.cancel = std::move(cancel);
    return o;
}
} // namespace

void EngineWorker::plan(const BuildRequest& request, const QStringList& cacheSpecs, const cache::PreImported& imported)
{
    planStop_.request_stop(); // a superseded plan stops its transfers
    const quint64 generation = ++planGeneration_;
    planStop_ = std::stop_source();
    const std::stop_token cancel = planStop_.get_token();
    planRunning_ = true;
    emit planStarted();
    EngineWorker* self = this;
    pool_.start([self, generation, request, cacheSpecs, imported, cancel] {
        std::shared_ptr<const solver::DryRunReport> report;
        QString error;
        try {
            report = std::make_shared<const solver::DryRunReport>(runPlan(request, cacheSpecs, imported, cancel));
        } catch (const Error& e) {
            error = QString::fromStdString(e.what());
        } catch (const std::exception& e) {
            error = QStringLiteral("internal error: ") + QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self,
            [self, generation, report, error] {
                if (generation != self->planGeneration_)
                    return; // superseded or cancelled
                self->planRunning_ = false;
                if (report)
                    emit self->planFinished(report);
                else
                    emit self->planFailed(error);
            },
            Qt::QueuedConnection);
    });
}

void EngineWorker::cancelPlan()
{
    if (!planRunning_)
        return;
    planStop_.request_stop();
    ++planGeneration_;
    planRunning_ = false;
    emit planCancelled();
}

bool EngineWorker::build(const BuildRequest& request, const QStringList& cacheSpecs, const cache::PreImported& imported,
                         bool withImport)
{
    if (buildRunning_)
        return false;
    buildStop_ = std::stop_source();
    build::BuildOptions options;
    QString badInput;
    try {
        options = buildOptions(request, cacheSpecs, imported, withImport, buildStop_.get_token());
    } catch (const Error& e) {
        badInput = QString::fromStdString(e.what());
    }
    buildRunning_ = true;
    emit buildStarted(withImport);
    if (!badInput.isEmpty()) {
        auto failed = std::make_shared<build::BuildResult>();
        failed->error = badInput.toStdString();
        failed->timings.error = failed->error;
        finishBuild(failed);
        return true;
    }
    auto queue = std::make_shared<BuildEventQueue>();
    buildEvents_ = queue;
    buildTick_.start();
    EngineWorker* self = this;
    pool_.start([self, options, queue] {
        build::BuildSession session(options, [queue](const build::BuildEvent& e) { queue->push(e); });
        auto result = std::make_shared<const build::BuildResult>(session.run());
        QMetaObject::invokeMethod(self, [self, result] { self->finishBuild(result); }, Qt::QueuedConnection);
    });
    return true;
}

void EngineWorker::cancelBuild()
{
    if (buildRunning_)
        buildStop_.request_stop();
}

void EngineWorker::cancel()
{
    cancelBuild();
    cancelPlan();
}

void EngineWorker::finishBuild(std::shared_ptr<const build::BuildResult> result)
{
    deliverBuildEvents(); // the last events come before the result
    buildTick_.stop();
    buildEvents_.reset();
    buildRunning_ = false;
    emit buildFinished(std::move(result));
}

namespace {
// A RUN that prints faster than anyone reads: a batch keeps its last lines and says how many it skipped.
constexpr qsizetype kMaxLinesPerBatch = 1000;
} // namespace

void EngineWorker::deliverBuildEvents()
{
    if (!buildEvents_)
        return;
    const std::vector<build::BuildEvent> events = buildEvents_->take();
    int logVertex = -1;
    std::vector<const std::string*> lines; // converted to QString only if kept
    auto flushLog = [&] {
        if (lines.empty())
            return;
        const qsizetype skipped = std::max<qsizetype>(0, static_cast<qsizetype>(lines.size()) - kMaxLinesPerBatch);
        QStringList kept;
        kept.reserve(static_cast<qsizetype>(lines.size()) - skipped + 1);
        if (skipped > 0)
            kept << tr("… %1 lines not shown").arg(skipped);
        for (auto it = lines.begin() + skipped; it != lines.end(); ++it)
            kept << QString::fromStdString(**it);
        emit stepLog(logVertex, kept);
        lines.clear();
    };
    std::map<std::string, build::BlobProgress> progress;
    for (const build::BuildEvent& event : events) {
        if (const auto* l = std::get_if<build::StepLog>(&event)) {
            if (l->vertex != logVertex)
                flushLog();
            logVertex = l->vertex;
            lines.push_back(&l->line);
            continue;
        }
        if (const auto* b = std::get_if<build::BlobProgress>(&event)) {
            progress[b->digest] = *b;
            continue;
        }
        flushLog();
        std::visit(
            [this](const auto& e) {
                using T = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<T, build::SourceImported>)
                    emit buildSourceImported(QString::fromStdString(e.spec), e.ok, QString::fromStdString(e.error),
                                             e.records);
                else if constexpr (std::is_same_v<T, build::StepPlanned>)
                    emit stepPlanned(e.vertex, QString::fromStdString(e.name), QString::fromStdString(e.key));
                else if constexpr (std::is_same_v<T, build::StepCached>)
                    emit stepCached(e.vertex, QString::fromStdString(e.source));
                else if constexpr (std::is_same_v<T, build::StepStarted>)
                    emit stepStarted(e.vertex);
                else if constexpr (std::is_same_v<T, build::StepMissed>)
                    emit stepMissed(e.vertex, QString::fromStdString(e.explanation));
                else if constexpr (std::is_same_v<T, build::StepFinished>)
                    emit stepFinished(e.vertex, e.duration.count(), e.bytes);
                // StepLog and BlobProgress are batched above; BuildFinished arrives with the result.
            },
            event);
    }
    flushLog();
    for (const auto& [digest, p] : progress)
        emit blobProgress(QString::fromStdString(digest), p.done, p.total);
}

void EngineWorker::parseStages(const QString& dockerfile)
{
    const quint64 generation = ++parseGeneration_;
    EngineWorker* self = this;
    pool_.start([self, generation, dockerfile] {
        QStringList stages;
        QString error;
        try {
            dockerfile::ParseOptions po;
            const std::filesystem::path path = dockerfile.toStdString();
            po.fileName = path.filename().string();
            const dockerfile::Dockerfile df = dockerfile::parseDockerfile(readFile(path), po);
            for (const dockerfile::Stage& st : df.stages)
                if (!st.from.stageName.empty())
                    stages << QString::fromStdString(st.from.stageName);
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self,
            [self, generation, dockerfile, stages, error] {
                if (generation == self->parseGeneration_)
                    emit self->stagesParsed(dockerfile, stages, error);
            },
            Qt::QueuedConnection);
    });
}

} // namespace cachescope::ui
