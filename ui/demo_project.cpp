#include "demo_project.h"

namespace cachescope::ui {

QStringList DemoProject::cacheSpecs() const
{
    return {QStringLiteral("type=local,src=%1/cache-max").arg(dir), QStringLiteral("type=local,src=%1/cache-min").arg(dir)};
}

QString DemoProject::project() const
{
    return dir + QStringLiteral("/project");
}

QString DemoProject::changedProject() const
{
    return dir + QStringLiteral("/project-changed");
}

BuildRequest DemoProject::request(bool changed) const
{
    BuildRequest r;
    r.context = changed ? changedProject() : project();
    r.buildContexts.append({QStringLiteral("127.0.0.1:5055/library/busybox:latest"),
                            QStringLiteral("oci-layout://%1/base-image:latest").arg(dir)});
    return r;
}

} // namespace cachescope::ui
