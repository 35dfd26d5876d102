#include "models/records_model.h"

#include "cache/imported_cache.h"

#include "models/steps_model.h"

#include <QFont>
#include <QLocale>

namespace cachescope::ui {

RecordsModel::RecordsModel(QObject* parent) : GraphTableModel(parent) {}

int RecordsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !graph() ? 0 : static_cast<int>(graph()->graph.itemCount());
}

int RecordsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RecordsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case DigestColumn: return tr("Record");
    case RoleColumn: return tr("Kind");
    case InputsColumn: return tr("Inputs");
    case ResultColumn: return tr("Result");
    case LayersColumn: return tr("Layers");
    case CreatedColumn: return tr("Created");
    case StepColumn: return tr("Current build");
    }
    return {};
}

void RecordsModel::setStepMap(BuildStepMap map)
{
    steps_ = std::move(map);
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

QVariant RecordsModel::stepData(const QString& digest, int role) const
{
    const auto it = steps_.constFind(digest);
    if (it == steps_.constEnd())
        return {};
    switch (role) {
    case Qt::DisplayRole:
        return (it->servedHere ? tr("CACHED from here: %1") : tr("looked up: %1")).arg(it->steps.join(QStringLiteral(", ")));
    case Qt::ToolTipRole:
        return (it->servedHere ? tr("This record served these steps of the current build:\n")
                               : tr("These steps of the current build key to this record (served elsewhere or run):\n")) +
               it->steps.join(QLatin1Char('\n'));
    case Qt::BackgroundRole:
        return it->servedHere ? QVariant(statusColor(StepInfo::Status::Cached)) : QVariant();
    case Qt::ForegroundRole:
        return it->servedHere ? QVariant(QColor(Qt::white)) : QVariant();
    }
    return {};
}

QVariant RecordsModel::data(const QModelIndex& index, int role) const
{
    if (!graph() || !index.isValid())
        return {};
    const cache::KeyGraph& g = graph()->graph;
    const auto id = static_cast<cache::ItemId>(index.row());
    const cache::KeyItem& item = g.item(id);
    const cache::ResultChain* best = g.bestResult(id);
    const QString digest = QString::fromStdString(g.digest(id).str());
    if (index.column() == StepColumn)
        return stepData(digest, role);
    if (role == Qt::FontRole && index.column() == RoleColumn && item.parents.empty()) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    if (role == Qt::ForegroundRole && index.column() == ResultColumn && best && !g.resultUsable(*best))
        return QColor(Qt::red);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (index.column()) {
    case DigestColumn:
        return role == Qt::ToolTipRole ? digest : QString::fromStdString(g.digest(id).shortForm());
    case RoleColumn:
        return item.parents.empty() ? tr("root") : tr("step");
    case InputsColumn: {
        QStringList inputs;
        for (std::size_t i = 0; i < item.parents.size(); ++i) {
            QStringList alternatives;
            for (const cache::KeyLink& link : item.parents[i]) {
                QString text = QString::fromStdString(g.digest(link.parent).shortForm(8));
                if (link.selector != 0)
                    text += role == Qt::ToolTipRole
                                ? QStringLiteral(" [selector %1]").arg(QString::fromStdString(g.selector(link.selector)))
                                : QStringLiteral(" [sel]");
                alternatives << text;
            }
            inputs << QStringLiteral("%1: %2").arg(i).arg(alternatives.join(QStringLiteral(" | ")));
        }
        return inputs.join(role == Qt::ToolTipRole ? QStringLiteral("\n") : QStringLiteral("; "));
    }
    case ResultColumn:
        if (!best)
            return item.parents.empty() ? QString() : tr("key only");
        return g.resultUsable(*best) ? tr("%n result(s)", nullptr, static_cast<int>(item.results.size()))
                                     : tr("missing blob");
    case LayersColumn: {
        if (!best)
            return {};
        const auto layers = g.chainLayers(*best);
        qint64 bytes = 0;
        for (const auto& l : layers)
            bytes += l.size;
        return tr("%1 (%2)").arg(layers.size()).arg(QLocale().formattedDataSize(bytes));
    }
    case CreatedColumn:
        return best ? QString::fromStdString(best->createdAt.text) : QString();
    }
    return {};
}

} // namespace cachescope::ui
