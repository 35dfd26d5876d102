#pragma once
// The layer blobs of one imported key graph: digest, size, media type, createdAt, diffID, state.
#include "models/graph_table_model.h"

namespace cachescope::ui {

class LayersModel : public GraphTableModel {
    Q_OBJECT
public:
    enum Column { BlobColumn, SizeColumn, MediaTypeColumn, CreatedColumn, DiffIdColumn, StateColumn, ColumnCount };
    explicit LayersModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
};

} // namespace cachescope::ui
