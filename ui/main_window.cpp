#include "main_window.h"

#include <QLabel>
#include <QStatusBar>

namespace cachescope::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("CacheScope"));
    auto* placeholder = new QLabel(tr("Add a cache source and open a Dockerfile to begin."), this);
    placeholder->setAlignment(Qt::AlignCenter);
    setCentralWidget(placeholder);
    statusBar()->showMessage(tr("Ready"));
    resize(1200, 760);
}

} // namespace cachescope::ui
