#pragma once
// The platform an op runs for. Exec keys and image manifest keys include it; file and merge keys do not.
#include "dockerfile/platform.h"
#include "oci/descriptor.h"

namespace cachescope::solver {

using Platform = oci::Platform;

// What BuildKit uses when an op names no platform: the daemon's own (linux and the
// architecture this engine was built for, in Go's GOARCH spelling).
Platform defaultPlatform();

// A Dockerfile platform (--platform, FROM --platform) as ops carry it.
Platform toOciPlatform(const dockerfile::Platform& p);

} // namespace cachescope::solver
