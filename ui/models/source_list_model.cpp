#include "models/source_list_model.h"

#include "cache/imported_cache.h"

#include <QApplication>
#include <QPalette>
#include <QLocale>
#include <QStyle>

namespace cachescope::ui {

SourceListModel::SourceListModel(QObject* parent) : QAbstractListModel(parent) {}

int SourceListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

QString summarizeImport(const cache::ImportedCache& imported)
{
    if (!imported.ok)
        return QString::fromStdString(imported.error);
    const QLocale locale;
    QString text = QObject::tr("%1 · %2 records · %3 layers · %4")
                       .arg(QString::fromUtf8(cache::cacheFormName(imported.form).data(),
                                              static_cast<qsizetype>(cache::cacheFormName(imported.form).size())))
                       .arg(imported.recordCount())
                       .arg(imported.layerCount())
                       .arg(locale.formattedDataSize(imported.blobBytes));
    if (!imported.problems.empty())
        text += QObject::tr(" · %n problem(s)", nullptr, static_cast<int>(imported.problems.size()));
    return text;
}

QVariant SourceListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const SourceEntry& e = entries_[static_cast<std::size_t>(index.row())];
    // Colour never carries meaning alone: every state also has a word.
    QString state;
    switch (e.state) {
    case SourceEntry::State::NotImported: state = tr("not imported"); break;
    case SourceEntry::State::Importing: state = tr("importing…"); break;
    case SourceEntry::State::Imported: state = tr("OK"); break;
    case SourceEntry::State::Failed: state = tr("FAILED"); break;
    }
    switch (role) {
    case Qt::DisplayRole: {
        QString text = e.spec + QLatin1Char('\n') + state;
        if (!e.summary.isEmpty())
            text += QStringLiteral(" — ") + e.summary;
        if (!e.enabled)
            text += tr(" (disabled)");
        return text;
    }
    case Qt::ToolTipRole:
        return e.summary.isEmpty() ? e.spec : e.spec + QLatin1Char('\n') + e.summary;
    case Qt::CheckStateRole:
        return e.enabled ? Qt::Checked : Qt::Unchecked;
    case Qt::DecorationRole: {
        QStyle* style = QApplication::style();
        switch (e.state) {
        case SourceEntry::State::Imported: return style->standardIcon(QStyle::SP_DialogApplyButton);
        case SourceEntry::State::Failed: return style->standardIcon(QStyle::SP_MessageBoxCritical);
        case SourceEntry::State::Importing: return style->standardIcon(QStyle::SP_BrowserReload);
        case SourceEntry::State::NotImported: return style->standardIcon(QStyle::SP_FileDialogInfoView);
        }
        return {};
    }
    case Qt::AccessibleTextRole:
        return e.spec + QStringLiteral(", ") + state + QStringLiteral(", ") + e.summary;
    case SpecRole:
        return e.spec;
    case StateRole:
        return static_cast<int>(e.state);
    case SummaryRole:
        return e.summary;
    default:
        return {};
    }
}

bool SourceListModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!index.isValid() || role != Qt::CheckStateRole)
        return false;
    entries_[static_cast<std::size_t>(index.row())].enabled = value.toInt() == Qt::Checked;
    emit dataChanged(index, index);
    emit sourcesChanged();
    return true;
}

Qt::ItemFlags SourceListModel::flags(const QModelIndex& index) const
{
    return QAbstractListModel::flags(index) | Qt::ItemIsUserCheckable;
}

void SourceListModel::addSource(const QString& spec)
{
    beginInsertRows({}, rowCount(), rowCount());
    SourceEntry entry;
    entry.spec = spec;
    entries_.push_back(std::move(entry));
    endInsertRows();
    emit sourcesChanged();
}

void SourceListModel::removeSource(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    beginRemoveRows({}, row, row);
    entries_.erase(entries_.begin() + row);
    endRemoveRows();
    emit sourcesChanged();
}

void SourceListModel::moveSource(int from, int to)
{
    if (from == to || from < 0 || to < 0 || from >= rowCount() || to >= rowCount())
        return;
    // Qt's move API wants the destination row as if the source were still in place.
    beginMoveRows({}, from, from, {}, to > from ? to + 1 : to);
    SourceEntry moved = std::move(entries_[static_cast<std::size_t>(from)]);
    entries_.erase(entries_.begin() + from);
    entries_.insert(entries_.begin() + to, std::move(moved));
    endMoveRows();
    emit sourcesChanged();
}

QStringList SourceListModel::specs() const
{
    QStringList out;
    for (const auto& e : entries_)
        out << e.spec;
    return out;
}

QStringList SourceListModel::enabledSpecs() const
{
    QStringList out;
    for (const auto& e : entries_)
        if (e.enabled)
            out << e.spec;
    return out;
}

cache::PreImported SourceListModel::finishedImports() const
{
    cache::PreImported out;
    for (const auto& e : entries_) {
        const bool finished = e.state == SourceEntry::State::Imported || e.state == SourceEntry::State::Failed;
        if (e.enabled && finished && e.imported)
            out[e.imported->spec.raw] = e.imported;
    }
    return out;
}

void SourceListModel::setSpecs(const QStringList& specs)
{
    beginResetModel();
    entries_.clear();
    for (const QString& s : specs) {
        SourceEntry entry;
        entry.spec = s;
        entries_.push_back(std::move(entry));
    }
    endResetModel();
    emit sourcesChanged();
}

void SourceListModel::markImporting(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    auto& e = entries_[static_cast<std::size_t>(row)];
    e.state = SourceEntry::State::Importing;
    e.summary.clear();
    emit dataChanged(index(row), index(row));
}

void SourceListModel::setImported(int row, std::shared_ptr<const cache::ImportedCache> imported)
{
    if (row < 0 || row >= rowCount() || !imported)
        return;
    auto& e = entries_[static_cast<std::size_t>(row)];
    e.state = imported->ok ? SourceEntry::State::Imported : SourceEntry::State::Failed;
    e.summary = summarizeImport(*imported);
    e.imported = std::move(imported);
    emit dataChanged(index(row), index(row));
}

} // namespace cachescope::ui
