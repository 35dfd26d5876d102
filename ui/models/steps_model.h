#pragma once
// The steps of a build, as a tree by stage: one row per BuildKit step with its status, the source
// that served a hit, its duration, layer size and short record key. Rows take per-step edits
// (updateStep, editStep), so a live build drives the model event by event; a dry run fills it from its
// report in one go (applyReport).
#include <QAbstractItemModel>
#include <QColor>
#include <QStringList>
#include <functional>
#include <vector>

namespace cachescope::solver {
struct DryRunReport;
}

namespace cachescope::ui {

struct StepInputInfo {
    QString producer;
    QStringList selectorPaths;
    QString selector;
    bool contentBased = false;
    QStringList contentSelectors;
};

struct ChangedFileInfo {
    QString path;
    QString change;       // "added", "removed", "changed"
    QString oldSize, newSize; // "" when absent
    QString oldMode, newMode; // octal, "" when absent
    bool contentChanged = false;
};

struct StepInfo {
    // Run: a plan predicts the step runs; Running / Done: a build is running it / ran it.
    enum class Status { Waiting, Checking, Cached, Run, DependsOnStage, Error, Image, ImageChanged, Running, Done };
    QString name;   // BuildKit's display name, the step's identity
    QString stage;  // as printed; "" for a one-stage build
    Status status = Status::Waiting;
    bool isFrom = false;
    bool evaluated = true;
    QString source;
    QStringList alsoIn;
    QString recordDigest;
    QString cause;
    QString explanation;
    QString keyPlaintext;
    QString keyDigest;
    std::vector<StepInputInfo> inputs;
    QList<ChangedFileInfo> changedFiles; // evidence of a context miss, when an earlier build is known
    QString changedFilesComparedWith;
    // What a build reported (none after a plan).
    int vertex = 0;           // the build's #N
    qint64 durationMs = -1;   // -1: not run by the last build
    qint64 layerBytes = -1;   // size of the layer blob the step wrote; -1: none written
    QStringList log;          // the step's RUN output, the last kMaxLogLines lines
    int logDropped = 0;       // earlier lines not kept

    static constexpr int kMaxLogLines = 2000;
    // Appends output lines, keeping only the last kMaxLogLines (a chatty RUN cannot fill the memory).
    void appendLog(const QStringList& lines);
    bool isMiss() const
    {
        return status == Status::Run || status == Status::DependsOnStage || status == Status::Error ||
               status == Status::Running || status == Status::Done;
    }
};

QString statusText(StepInfo::Status status);
// Badge colours; the word always goes with them (colour is never the only signal).
QColor statusColor(StepInfo::Status status);
QList<StepInfo> stepsFromReport(const solver::DryRunReport& report);

class StepsModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { NameColumn, StatusColumn, SourceColumn, DurationColumn, SizeColumn, KeyColumn, ColumnCount };
    enum Roles { MissRole = Qt::UserRole + 1, StatusRole, IsStageRole };

    explicit StepsModel(QObject* parent = nullptr);

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void clear();
    // Replaces every step (e.g. the planned steps, all Waiting).
    void setSteps(const QList<StepInfo>& steps);
    // Updates the step with this name, or appends it under its stage: the live-event path.
    void updateStep(const StepInfo& step);
    // Sets every step's status (e.g. Checking while a plan runs).
    void setAllStatuses(StepInfo::Status status);
    // Changes one step in place (the step at a step row's index) and tells the views.
    void editStep(const QModelIndex& index, const std::function<void(StepInfo&)>& edit);
    // Changes every step in place and tells the views once.
    void editAllSteps(const std::function<void(StepInfo&)>& edit);
    // A dry run's outcome: the same steps are updated in place, a different plan replaces them.
    void applyReport(const solver::DryRunReport& report);

    // Step at a step row's index (nullptr for a stage row or an invalid index).
    const StepInfo* step(const QModelIndex& index) const;
    QModelIndex indexOfStep(const QString& name, int column = 0) const;
    // The step a build numbered #vertex (see StepInfo::vertex).
    QModelIndex indexOfVertex(int vertex) const;
    QModelIndex firstMiss() const;
    int stepCount() const;
    int countWithStatus(StepInfo::Status status) const;
    // The steps in plan order.
    QList<StepInfo> steps() const;
    // Each step in plan order, without copying.
    void visitSteps(const std::function<void(const StepInfo&)>& visit) const;

private:
    struct Stage {
        QString name;
        std::vector<StepInfo> steps;
    };
    int stageRow(const QString& stage) const;
    QString stageLabel(const Stage& stage) const;

    std::vector<Stage> stages_;
};

} // namespace cachescope::ui
