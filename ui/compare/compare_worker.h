#pragma once
// Runs the engine's compare runner on a worker thread; progress and the report come back as queued
// signals. One compare at a time; cancel is cooperative (the running build stops promptly).
#include "buildpanel/build_request.h"

#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <memory>
#include <stop_token>

namespace cachescope::build {
struct CompareReport;
}

namespace cachescope::ui {

class CompareWorker : public QObject {
    Q_OBJECT
public:
    explicit CompareWorker(QObject* parent = nullptr);
    ~CompareWorker() override;

    // Starts a compare of the request with and without these cache sources. Ignored while one runs.
    void start(const BuildRequest& request, const QStringList& cacheSpecs, int runs);
    void cancel();
    bool running() const { return running_; }

signals:
    // After each build: `done` of `total` builds (the warm-up included).
    void progress(int done, int total, const QString& message);
    void finished(std::shared_ptr<const cachescope::build::CompareReport> report);
    void failed(const QString& error);
    void cancelled();

private:
    QThreadPool pool_;
    std::stop_source stop_;
    bool running_ = false;
};

} // namespace cachescope::ui
