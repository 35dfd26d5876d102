#pragma once
// The user's ordered cache sources and the live import state of each.
#include "cache/cache_importer.h"

#include <QAbstractListModel>
#include <QStringList>
#include <memory>
#include <vector>

namespace cachescope::ui {

struct SourceEntry {
    enum class State { NotImported, Importing, Imported, Failed };
    QString spec;
    bool enabled = true;
    State state = State::NotImported;
    QString summary; // "9 records · 6 layers · 1.0 MB" or the error in words
    std::shared_ptr<const cache::ImportedCache> imported;
};

class SourceListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { SpecRole = Qt::UserRole + 1, StateRole, SummaryRole };

    explicit SourceListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    void addSource(const QString& spec);
    void removeSource(int row);
    void moveSource(int from, int to);
    QStringList specs() const;
    QStringList enabledSpecs() const; // what a plan or build uses, in order
    // The enabled sources whose import has finished (imported or failed), by spec: a plan or build
    // uses these as shown instead of importing them again. One being (re)imported is left out.
    cache::PreImported finishedImports() const;
    void setSpecs(const QStringList& specs);
    const SourceEntry& entry(int row) const { return entries_.at(static_cast<std::size_t>(row)); }

    // Import progress, as reported by the engine thread.
    void markImporting(int row);
    void setImported(int row, std::shared_ptr<const cache::ImportedCache> imported);

signals:
    void sourcesChanged();

private:
    std::vector<SourceEntry> entries_;
};

QString summarizeImport(const cache::ImportedCache& imported);

} // namespace cachescope::ui
