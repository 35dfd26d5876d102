#pragma once
// The records of one imported key graph as a table: digest, role, inputs, results, layers, and the
// step of the current plan or build that keys to the record (CACHED from here, or only looked up).
// Roots are bold; a result whose blob is missing is red.
#include "browser/build_step_map.h"
#include "models/graph_table_model.h"

namespace cachescope::ui {

class RecordsModel : public GraphTableModel {
    Q_OBJECT
public:
    // Inputs last: the longest text, it takes the rest of the width.
    enum Column { DigestColumn, RoleColumn, StepColumn, ResultColumn, LayersColumn, CreatedColumn, InputsColumn, ColumnCount };
    explicit RecordsModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setStepMap(BuildStepMap map);

private:
    QVariant stepData(const QString& digest, int role) const;

    BuildStepMap steps_;
};

} // namespace cachescope::ui
