#include "engine_worker.h"

#include "base/error.h"
#include "cache/cache_importer.h"
#include "cache/default_providers.h"

#include <QMetaObject>

namespace cachescope::ui {

EngineWorker::EngineWorker(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<std::shared_ptr<const cachescope::cache::ImportedCache>>();
    pool_.setMaxThreadCount(8); // imports wait on the network more than on the CPU
}

EngineWorker::~EngineWorker()
{
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

} // namespace cachescope::ui
