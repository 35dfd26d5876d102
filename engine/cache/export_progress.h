#pragma once
// Progress of a cache export, one line per step in BuildKit's words ("writing layer sha256:…",
// "writing config sha256:…", "writing cache image manifest sha256:…", "skipping cache export
// for empty result"). Called after the step is done, on the exporting thread; a test may stop
// the process from here to prove an interrupted export leaves a consistent target.
#include <functional>
#include <string>

namespace cachescope::cache {

using ExportProgress = std::function<void(const std::string& line)>;

} // namespace cachescope::cache
