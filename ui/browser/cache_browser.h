#pragma once
// Browses one imported cache source: its key graph, its records, its layers and its problems.
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

class CacheBrowser : public QWidget {
    Q_OBJECT
public:
    explicit CacheBrowser(QWidget* parent = nullptr);

    void showSource(std::shared_ptr<const cache::ImportedCache> imported);

private:
    void showGraph(int index);

    std::shared_ptr<const cache::ImportedCache> imported_;
    QLabel* header_ = nullptr;
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
