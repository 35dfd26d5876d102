#include "engine_worker.h"

#include "base/error.h"
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
    pool_.setMaxThreadCount(8); // imports wait on the network more than on the CPU
}

EngineWorker::~EngineWorker()
{
    if (planCancel_)
        *planCancel_ = true;
    pool_.waitForDone();
}

namespace {
std::shared_ptr<const cache::ImportedCache> importOne(const QString& text)
{
    auto result = std::make_shared<cache::ImportedCache>();
    try {
        const cache::CacheSpec spec = cache::parseCacheSpec(text.toStdString());
        result = std::make_shared<cache::ImportedCache>(
            std::move(cache::importSources({spec}, cache::defaultProviderFactory()).front()));
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
        pool_.start([self, generation, row, spec] {
            auto imported = importOne(spec);
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
std::map<std::string, std::string> toMap(const QList<QPair<QString, QString>>& pairs)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : pairs)
        if (!name.trimmed().isEmpty())
            out[name.trimmed().toStdString()] = value.toStdString();
    return out;
}

// Runs on a worker thread.
solver::DryRunReport runPlan(const BuildRequest& request, const QStringList& specs,
                             const std::shared_ptr<std::atomic<bool>>& cancel)
{
    solver::DryRunOptions o;
    o.contextDir = request.context.toStdString();
    if (!request.dockerfile.isEmpty())
        o.dockerfile = request.dockerfile.toStdString();
    o.target = request.target.toStdString();
    o.buildArgs = toMap(request.buildArgs);
    if (!request.platform.trimmed().isEmpty())
        o.platform = request.platform.trimmed().toStdString();
    o.buildContexts = toMap(request.buildContexts);
    for (const QString& spec : specs)
        o.cacheFrom.push_back(cache::parseCacheSpec(spec.toStdString()));
    o.registryOptions.cancelled = [cancel] { return cancel->load(); };
    return solver::dryRun(o);
}
} // namespace

void EngineWorker::plan(const BuildRequest& request, const QStringList& cacheSpecs)
{
    if (planCancel_)
        *planCancel_ = true; // a superseded plan stops its transfers
    const quint64 generation = ++planGeneration_;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    planCancel_ = cancel;
    planRunning_ = true;
    emit planStarted();
    EngineWorker* self = this;
    pool_.start([self, generation, request, cacheSpecs, cancel] {
        std::shared_ptr<const solver::DryRunReport> report;
        QString error;
        try {
            report = std::make_shared<const solver::DryRunReport>(runPlan(request, cacheSpecs, cancel));
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
    if (planCancel_)
        *planCancel_ = true;
    ++planGeneration_;
    planRunning_ = false;
    emit planCancelled();
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
