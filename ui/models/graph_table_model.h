#pragma once
// Base of the tables over one imported key graph: holds the graph and the import that owns it.
#include <QAbstractTableModel>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
struct ImportedGraph;
}

namespace cachescope::ui {

class GraphTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setGraph(std::shared_ptr<const cache::ImportedCache> owner, const cache::ImportedGraph* graph)
    {
        beginResetModel();
        owner_ = std::move(owner);
        graph_ = graph;
        endResetModel();
    }

protected:
    const cache::ImportedGraph* graph() const { return graph_; }

private:
    std::shared_ptr<const cache::ImportedCache> owner_; // keeps graph_ alive
    const cache::ImportedGraph* graph_ = nullptr;
};

} // namespace cachescope::ui
