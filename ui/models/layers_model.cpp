#include "models/layers_model.h"

#include "cache/imported_cache.h"
#include "oci/media_types.h"

#include <QLocale>

namespace cachescope::ui {

LayersModel::LayersModel(QObject* parent) : GraphTableModel(parent) {}

int LayersModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !graph() ? 0 : static_cast<int>(graph()->graph.layerCount());
}

int LayersModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case BlobColumn: return tr("Blob");
    case SizeColumn: return tr("Size");
    case MediaTypeColumn: return tr("Media type");
    case CreatedColumn: return tr("Created");
    case DiffIdColumn: return tr("Uncompressed digest");
    case StateColumn: return tr("State");
    }
    return {};
}

QVariant LayersModel::data(const QModelIndex& index, int role) const
{
    if (!graph() || !index.isValid())
        return {};
    const auto slot = static_cast<cache::LayerSlot>(index.row());
    const oci::Descriptor& d = graph()->graph.layer(slot);
    const std::uint8_t flags = graph()->graph.layerFlags(slot);
    if (role == Qt::TextAlignmentRole && index.column() == SizeColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (index.column()) {
    case BlobColumn:
        return QString::fromStdString(role == Qt::ToolTipRole ? d.digest.str() : d.digest.shortForm());
    case SizeColumn:
        return QLocale().formattedDataSize(d.size);
    case MediaTypeColumn:
        return QString::fromStdString(d.mediaType);
    case CreatedColumn:
        return QString::fromStdString(d.annotation(oci::media::AnnotationCreatedAt));
    case DiffIdColumn:
        return QString::fromStdString(d.annotation(oci::media::AnnotationUncompressed));
    case StateColumn: {
        QStringList state;
        if (flags & cache::KeyGraph::BlobMissing)
            state << tr("MISSING blob");
        if (flags & cache::KeyGraph::NoUncompressed)
            state << tr("no containerd.io/uncompressed");
        return state.isEmpty() ? tr("ok") : state.join(QStringLiteral(", "));
    }
    }
    return {};
}

} // namespace cachescope::ui
