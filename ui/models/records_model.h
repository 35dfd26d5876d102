#pragma once
// The records of one imported key graph as a table: digest, role, inputs, results, layers.
#include "models/graph_table_model.h"

namespace cachescope::ui {

class RecordsModel : public GraphTableModel {
    Q_OBJECT
public:
    enum Column { DigestColumn, RoleColumn, InputsColumn, ResultColumn, LayersColumn, CreatedColumn, ColumnCount };
    explicit RecordsModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
};

} // namespace cachescope::ui
