#pragma once
// Browses one imported cache source: its key graph, its records, its layers and its problems, with
// the steps of the current plan or build mapped onto its records.
#include <QTimer>
#include <QWidget>
#include <memory>

class QComboBox;
class QLabel;
class QListWidget;
class QTableView;
class QTabWidget;

namespace cachescope::cache {
struct ImportedCache;
}

namespace cachescope::ui {

class KeyGraphView;
class LayersModel;
class RecordsModel;
class StepsModel;

class CacheBrowser : public QWidget {
    Q_OBJECT
public:
    explicit CacheBrowser(QWidget* parent = nullptr);

    void showSource(std::shared_ptr<const cache::ImportedCache> imported);
    // The plan or build whose steps are marked on the records; followed as it changes.
    void followSteps(const StepsModel* steps);
    // "3 records used by the current build · 2 served from here" (empty without a build).
    QString stepSummary() const;

protected:
    bool event(QEvent* e) override;

private:
    void showGraph(int index);
    void stepsChanged();
    void mapSteps();

    std::shared_ptr<const cache::ImportedCache> imported_;
    const StepsModel* steps_ = nullptr;
    QTimer stepsChanged_;
    bool stale_ = false; // the steps changed while the browser was hidden
    QLabel* header_ = nullptr;
    QLabel* stepSummary_ = nullptr;
    QComboBox* platform_ = nullptr;
    KeyGraphView* graphView_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    RecordsModel* records_ = nullptr;
    LayersModel* layers_ = nullptr;
    QTableView* recordsView_ = nullptr;
    QTableView* layersView_ = nullptr;
    QListWidget* problems_ = nullptr;
};

} // namespace cachescope::ui
