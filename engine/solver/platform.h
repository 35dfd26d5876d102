#pragma once
// The platform an op runs for. Exec keys and image manifest keys include it; file and merge keys do not.
#include <string>
#include <vector>

namespace cachescope::solver {

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;
    std::string osVersion;
    std::vector<std::string> osFeatures;

    bool operator==(const Platform&) const = default;
};

// What BuildKit uses when an op names no platform: the daemon's own (linux and the
// architecture this engine was built for, in Go's GOARCH spelling).
Platform defaultPlatform();

} // namespace cachescope::solver
