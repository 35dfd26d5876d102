#pragma once
// The main window assembles the panels; it holds no logic of its own.
#include <QMainWindow>

namespace cachescope::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

} // namespace cachescope::ui
