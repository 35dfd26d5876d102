#include "project_settings.h"

#include <QCryptographicHash>
#include <QSettings>

namespace cachescope::ui {

namespace {
// QSettings keys cannot hold '/', and paths are long: a project's group is a hash of its directory.
QString groupOf(const QString& contextDir)
{
    return QStringLiteral("projects/") +
           QString::fromLatin1(QCryptographicHash::hash(contextDir.toUtf8(), QCryptographicHash::Sha1).toHex().left(16));
}

QStringList flatten(const QList<QPair<QString, QString>>& pairs)
{
    QStringList out;
    for (const auto& [name, value] : pairs)
        out << name << value;
    return out;
}

QList<QPair<QString, QString>> pairsFrom(const QStringList& flat)
{
    QList<QPair<QString, QString>> out;
    for (qsizetype i = 0; i + 1 < flat.size(); i += 2)
        out.append({flat[i], flat[i + 1]});
    return out;
}
} // namespace

void ProjectSettings::remember(const BuildRequest& request, const QStringList& sourceSpecs)
{
    if (request.context.isEmpty())
        return;
    QSettings settings;
    settings.beginGroup(groupOf(request.context));
    settings.setValue(QStringLiteral("context"), request.context);
    settings.setValue(QStringLiteral("dockerfile"), request.dockerfile);
    settings.setValue(QStringLiteral("target"), request.target);
    settings.setValue(QStringLiteral("platform"), request.platform);
    settings.setValue(QStringLiteral("buildArgs"), flatten(request.buildArgs));
    settings.setValue(QStringLiteral("buildContexts"), flatten(request.buildContexts));
    settings.setValue(QStringLiteral("cacheExports"), request.cacheExports);
    settings.setValue(QStringLiteral("sources"), sourceSpecs);
    settings.endGroup();
    QStringList recent = settings.value(QStringLiteral("recentProjects")).toStringList();
    recent.removeAll(request.context);
    recent.prepend(request.context);
    settings.setValue(QStringLiteral("recentProjects"), recent.mid(0, kMaxRecent));
}

std::optional<RememberedProject> ProjectSettings::project(const QString& contextDir)
{
    QSettings settings;
    settings.beginGroup(groupOf(contextDir));
    if (settings.value(QStringLiteral("context")).toString() != contextDir)
        return std::nullopt;
    RememberedProject p;
    p.request.context = contextDir;
    p.request.dockerfile = settings.value(QStringLiteral("dockerfile")).toString();
    p.request.target = settings.value(QStringLiteral("target")).toString();
    p.request.platform = settings.value(QStringLiteral("platform")).toString();
    p.request.buildArgs = pairsFrom(settings.value(QStringLiteral("buildArgs")).toStringList());
    p.request.buildContexts = pairsFrom(settings.value(QStringLiteral("buildContexts")).toStringList());
    p.request.cacheExports = settings.value(QStringLiteral("cacheExports")).toStringList();
    p.sourceSpecs = settings.value(QStringLiteral("sources")).toStringList();
    return p;
}

QStringList ProjectSettings::recentProjects()
{
    return QSettings().value(QStringLiteral("recentProjects")).toStringList();
}

} // namespace cachescope::ui
