#pragma once
// A build panel request and the enabled cache sources as the engine's options: the same fields go
// to a plan (solver::DryRunOptions) and to a build (build::BuildOptions).
#include "build/build_session.h"
#include "buildpanel/build_request.h"
#include "solver/dry_run.h"

#include <QStringList>

namespace cachescope::ui {

// Both throw Error naming a cache spec that does not parse.
solver::DryRunOptions dryRunOptionsFor(const BuildRequest& request, const QStringList& cacheSpecs);
build::BuildOptions buildOptionsFor(const BuildRequest& request, const QStringList& cacheSpecs);

} // namespace cachescope::ui
