#pragma once
// The bundled demo (resources/demo): two local caches exported by a real BuildKit, the project they
// were built from, the same project with src/two.txt changed, and the base image as an OCI layout so
// the plan resolves it offline.
#include "buildpanel/build_request.h"

#include <QStringList>

namespace cachescope::ui {

struct DemoProject {
    QString dir;

    QStringList cacheSpecs() const;
    QString project() const;
    QString changedProject() const;
    // The demo Dockerfile's base image served from <dir>/base-image, as BuildKit's --build-context does.
    BuildRequest request(bool changed) const;
};

} // namespace cachescope::ui
