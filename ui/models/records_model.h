#pragma once
// The records of one imported key graph as a table: digest, role, inputs, results, layers.
#include <QAbstractTableModel>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
struct ImportedGraph;
}

namespace cachescope::ui {

class RecordsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { DigestColumn, RoleColumn, InputsColumn, ResultColumn, LayersColumn, CreatedColumn, ColumnCount };
    explicit RecordsModel(QObject* parent = nullptr);

    void setGraph(std::shared_ptr<const cache::ImportedCache> owner, const cache::ImportedGraph* graph);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const cache::ImportedCache> owner_; // keeps graph_ alive
    const cache::ImportedGraph* graph_ = nullptr;
};

} // namespace cachescope::ui
