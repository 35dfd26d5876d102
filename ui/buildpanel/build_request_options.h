#pragma once
// A build panel request and the enabled cache sources as the engine's BuildOptions.
#include "build/build_session.h"
#include "buildpanel/build_request.h"

#include <QStringList>

namespace cachescope::ui {

// Throws Error naming a cache spec that does not parse.
build::BuildOptions buildOptionsFor(const BuildRequest& request, const QStringList& cacheSpecs);

} // namespace cachescope::ui
