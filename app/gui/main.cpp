// The desktop app: a thin shell that opens the main window.
#include "main_window.h"
#include "project_settings.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QSettings>

namespace {
// The bundled demo: beside an installed binary (share/cachescope/demo), else in the source tree.
QString demoDir()
{
    const QString env = qEnvironmentVariable("CACHESCOPE_DEMO_DIR");
    if (!env.isEmpty())
        return env;
    const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/cachescope/demo");
    if (QFileInfo::exists(installed))
        return QDir(installed).canonicalPath();
    return QStringLiteral(CACHESCOPE_SOURCE_DEMO_DIR);
}
} // namespace

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("cachescope"));
    QApplication::setApplicationDisplayName(QStringLiteral("CacheScope"));
    QApplication::setOrganizationName(QStringLiteral("CacheScope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/cachescope.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Build inspector for BuildKit cache import"));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("demo"), QStringLiteral("Open the bundled demo project.")});
    parser.addOption({QStringLiteral("cache-from"), QStringLiteral("Add a cache source (buildx spec); repeatable."),
                      QStringLiteral("spec")});
    parser.process(app);

    cachescope::ui::MainWindow window;
    QStringList specs = parser.values(QStringLiteral("cache-from"));
    const bool firstStart = !QSettings().contains(QStringLiteral("sources"));
    if (specs.isEmpty() && (parser.isSet(QStringLiteral("demo")) || firstStart))
        window.openDemo(demoDir()); // imports the demo caches, then plans the demo project
    else if (const QStringList recent = cachescope::ui::ProjectSettings::recentProjects(); specs.isEmpty() && !recent.isEmpty())
        window.openProject(recent.first()); // where the last session left off: its project and sources
    else
        window.openSources(specs.isEmpty() ? QSettings().value(QStringLiteral("sources")).toStringList() : specs);
    window.show();
    return app.exec();
}
