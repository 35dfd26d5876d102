#pragma once
// The layer blobs of one imported key graph: digest, size, media type, createdAt, diffID, state.
#include <QAbstractTableModel>
#include <memory>

namespace cachescope::cache {
struct ImportedCache;
struct ImportedGraph;
}

namespace cachescope::ui {

class LayersModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { BlobColumn, SizeColumn, MediaTypeColumn, CreatedColumn, DiffIdColumn, StateColumn, ColumnCount };
    explicit LayersModel(QObject* parent = nullptr);

    void setGraph(std::shared_ptr<const cache::ImportedCache> owner, const cache::ImportedGraph* graph);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const cache::ImportedCache> owner_;
    const cache::ImportedGraph* graph_ = nullptr;
};

} // namespace cachescope::ui
