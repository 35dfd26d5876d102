#pragma once
// Left panel: the ordered cache sources with their import state; add, remove, reorder,
// enable/disable, and re-import.
#include <QWidget>

class QListView;
class QPushButton;

namespace cachescope::ui {

class SourceListModel;

class SourcesPanel : public QWidget {
    Q_OBJECT
public:
    SourcesPanel(SourceListModel* model, QWidget* parent = nullptr);

    int currentRow() const;

public slots:
    void addSourceInteractively();

signals:
    void importRequested();
    void currentSourceChanged(int row);

private:
    void removeCurrent();
    void moveCurrent(int delta);
    void updateButtons();

    SourceListModel* model_;
    QListView* list_ = nullptr;
    QPushButton* add_ = nullptr;
    QPushButton* remove_ = nullptr;
    QPushButton* up_ = nullptr;
    QPushButton* down_ = nullptr;
    QPushButton* import_ = nullptr;
};

} // namespace cachescope::ui
