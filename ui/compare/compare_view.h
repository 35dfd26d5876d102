#pragma once
// The Compare tab: builds the current request N times with an empty local store, without and with
// the enabled cache sources (on a worker), and shows the answer: the verdict in words, both modes'
// wall times as box plots (min, quartiles, median, max), per-step median times stacked per mode,
// and every run in a table.
#include "buildpanel/build_request.h"

#include <QWidget>
#include <memory>

class QBoxPlotSeries;
class QChart;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStackedBarSeries;
class QTableWidget;

namespace cachescope::build {
struct CompareReport;
}

namespace cachescope::ui {

class CompareWorker;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    // Runs a compare (the main window answers compareRequested with the current request).
    void start(const BuildRequest& request, const QStringList& cacheSpecs, int runs);
    void showReport(const build::CompareReport& report);

    QSpinBox* runsBox() const { return runs_; }
    QPushButton* runButton() const { return run_; }
    QPushButton* cancelButton() const { return cancel_; }
    QLabel* verdictLabel() const { return verdict_; }
    QChart* timesChart() const { return timesChart_; }
    QChart* stepsChart() const { return stepsChart_; }
    QTableWidget* runsTable() const { return table_; }

signals:
    void compareRequested(int runs);
    void compareFinished();
    void compareFailed(const QString& error);
    void compareCancelled();

private:
    void setRunning(bool running);

    CompareWorker* worker_ = nullptr;
    QSpinBox* runs_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* verdict_ = nullptr;
    QChart* timesChart_ = nullptr;
    QChart* stepsChart_ = nullptr;
    QTableWidget* table_ = nullptr;
};

} // namespace cachescope::ui
