#pragma once
// The bridge between the GUI and the engine: engine calls run on worker threads, results come
// back as queued Qt signals. Nothing here blocks the GUI thread.
#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
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

signals:
    void sourceImporting(int row);
    void sourceImported(int row, std::shared_ptr<const cachescope::cache::ImportedCache> imported);
    void importsFinished();

private:
    QThreadPool pool_;
    quint64 generation_ = 0;
    int pending_ = 0;
};

} // namespace cachescope::ui
