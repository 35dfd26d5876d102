#include "buildpanel/build_request_options.h"

#include "cache/cache_spec.h"

namespace cachescope::ui {

namespace {
std::map<std::string, std::string> toMap(const QList<QPair<QString, QString>>& pairs)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : pairs)
        if (!name.trimmed().isEmpty())
            out[name.trimmed().toStdString()] = value.toStdString();
    return out;
}

// What plans and builds take alike from the panel.
template <typename Options>
Options optionsFor(const BuildRequest& request, const QStringList& cacheSpecs)
{
    Options o;
    o.contextDir = request.context.toStdString();
    if (!request.dockerfile.isEmpty())
        o.dockerfile = request.dockerfile.toStdString();
    o.target = request.target.toStdString();
    o.buildArgs = toMap(request.buildArgs);
    if (!request.platform.trimmed().isEmpty())
        o.platform = request.platform.trimmed().toStdString();
    o.buildContexts = toMap(request.buildContexts);
    for (const QString& spec : cacheSpecs)
        o.cacheFrom.push_back(cache::parseCacheSpec(spec.toStdString()));
    return o;
}
} // namespace

solver::DryRunOptions dryRunOptionsFor(const BuildRequest& request, const QStringList& cacheSpecs)
{
    return optionsFor<solver::DryRunOptions>(request, cacheSpecs);
}

build::BuildOptions buildOptionsFor(const BuildRequest& request, const QStringList& cacheSpecs)
{
    return optionsFor<build::BuildOptions>(request, cacheSpecs);
}

} // namespace cachescope::ui
