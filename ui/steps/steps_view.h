#pragma once
// The steps of the current plan as a tree by stage, with a "misses only" filter and a jump to the
// first miss. Emits the step the user selects.
#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTimer;
class QTreeView;

namespace cachescope::ui {

class StepsModel;
struct StepInfo;

class StepsView : public QWidget {
    Q_OBJECT
public:
    StepsView(StepsModel* model, QWidget* parent = nullptr);

    QTreeView* tree() const { return tree_; }
    void setMissesOnly(bool on);
    // A line above the tree: the plan's state ("planning…", "5/9 cached", an error).
    void setMessage(const QString& text);

public slots:
    // Selects the first step that misses; false when every step is cached.
    bool jumpToFirstMiss();

signals:
    void currentStepChanged(const cachescope::ui::StepInfo* step);
    void missesOnlyChanged(bool on);

private:
    void emitCurrent();

    StepsModel* model_;
    QSortFilterProxyModel* proxy_ = nullptr;
    QTreeView* tree_ = nullptr;
    QCheckBox* missesOnly_ = nullptr;
    QPushButton* jump_ = nullptr;
    QLabel* message_ = nullptr;
    QTimer* fitSource_ = nullptr;
};

} // namespace cachescope::ui
