#include "compare/compare_worker.h"

#include "base/error.h"
#include "build/compare_runner.h"
#include "buildpanel/build_request_options.h"

#include <QMetaObject>

namespace cachescope::ui {

CompareWorker::CompareWorker(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<std::shared_ptr<const cachescope::build::CompareReport>>();
    pool_.setMaxThreadCount(1);
}

CompareWorker::~CompareWorker()
{
    stop_.request_stop();
    pool_.waitForDone();
}

void CompareWorker::start(const BuildRequest& request, const QStringList& cacheSpecs, int runs)
{
    if (running_)
        return;
    running_ = true;
    stop_ = std::stop_source();
    CompareWorker* self = this; // the pool is drained in the destructor: `this` outlives every task
    const std::stop_token token = stop_.get_token();
    pool_.start([self, request, cacheSpecs, runs, token] {
        std::shared_ptr<const build::CompareReport> report;
        QString error;
        bool wasCancelled = false;
        try {
            build::CompareOptions o;
            o.build = buildOptionsFor(request, cacheSpecs);
            o.build.cancel = token;
            o.build.registryOptions.cancelled = [token] { return token.stop_requested(); }; // transfers stop too
            o.runs = runs;
            const int total = 1 + 2 * runs;
            int done = 0;
            report = std::make_shared<const build::CompareReport>(
                build::runCompare(o, [self, total, &done](const build::CompareProgress& p) {
                    ++done;
                    const QString what = p.run == 0 ? QObject::tr("warm-up build")
                                         : p.mode == build::CompareMode::WithoutImport
                                             ? QObject::tr("run %1 without import").arg(p.run)
                                             : QObject::tr("run %1 with import").arg(p.run);
                    const QString message = QObject::tr("%1 took %2 s").arg(what).arg(p.sample->seconds, 0, 'f', 2);
                    QMetaObject::invokeMethod(
                        self, [self, done, total, message] { emit self->progress(done, total, message); },
                        Qt::QueuedConnection);
                }));
        } catch (const build::CompareCancelled&) {
            wasCancelled = true;
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self,
            [self, report, error, wasCancelled] {
                self->running_ = false;
                if (wasCancelled)
                    emit self->cancelled();
                else if (report)
                    emit self->finished(report);
                else
                    emit self->failed(error);
            },
            Qt::QueuedConnection);
    });
}

void CompareWorker::cancel()
{
    if (running_)
        stop_.request_stop();
}

} // namespace cachescope::ui
