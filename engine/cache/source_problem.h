#pragma once
// Something wrong with a cache source that does not stop it from importing: a dropped result,
// a missing blob, a config BuildKit would refuse. Reports list them per source.
#include <string>

namespace cachescope::cache {

struct SourceProblem {
    // Stable identifiers for reports and --json: blob-not-listed, missing-blob,
    // missing-uncompressed, manifest-too-large, config-too-large, platform-skipped, no-inline-cache.
    std::string kind;
    std::string message;
};

} // namespace cachescope::cache
