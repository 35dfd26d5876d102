// The desktop app: a thin shell that opens the main window.
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("cachescope"));
    QApplication::setApplicationDisplayName(QStringLiteral("CacheScope"));
    QApplication::setOrganizationName(QStringLiteral("CacheScope"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Build inspector for BuildKit cache import"));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("demo"), QStringLiteral("Open the bundled demo project.")});
    parser.process(app);

    cachescope::ui::MainWindow window;
    window.show();
    return app.exec();
}
