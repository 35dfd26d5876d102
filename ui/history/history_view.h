#pragma once
// The History tab: the builds kept in the data dir (read on a worker thread, newest first; damaged
// records are named, not fatal), and for any two selected builds a step-aligned diff: per step the
// state and source in each, the time difference and what changed (key, name).
#include "build/build_history.h"

#include <QWidget>
#include <filesystem>
#include <vector>

class QLabel;
class QPushButton;
class QTableWidget;
class QTreeWidget;

namespace cachescope::ui {

class HistoryView : public QWidget {
    Q_OBJECT
public:
    explicit HistoryView(QWidget* parent = nullptr);

    // Default: the engine's data dir ($XDG_DATA_HOME/cachescope).
    void setDataDir(const std::filesystem::path& dir);
    const std::vector<build::BuildRecord>& builds() const { return builds_; }

    QTreeWidget* buildList() const { return list_; }
    QTableWidget* diffTable() const { return diff_; }
    QLabel* diffSummary() const { return summary_; }

public slots:
    // Reads the history again (off the GUI thread); `loaded` follows.
    void refresh();

signals:
    void loaded();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void showListing(const build::BuildHistoryListing& listing);
    void showDiff();

    std::filesystem::path dataDir_;
    std::vector<build::BuildRecord> builds_;
    quint64 generation_ = 0;
    QPushButton* refresh_ = nullptr;
    QLabel* info_ = nullptr;
    QTreeWidget* list_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableWidget* diff_ = nullptr;
};

} // namespace cachescope::ui
