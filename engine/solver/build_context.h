#pragma once
// The build context as BuildKit's client sends it: files minus .dockerignore, hashed for content
// keys. Dry runs and real builds read it through here, so both key the same files.
#include "dockerfile/dockerignore.h"
#include "solver/content_hash.h"

#include <filesystem>
#include <stop_token>

namespace cachescope::solver {

// The context's .dockerignore (empty when absent). Throws Error naming the file when it is bad.
dockerfile::DockerIgnore readDockerIgnore(const std::filesystem::path& contextDir);

// Scans the context for content keys. With a stat cache file, unchanged files are not read again
// (call saveStatCache() on the result afterwards). `cancel` stops the scan and later hashing of the
// tree (OperationCancelled).
ContentTree scanBuildContext(const std::filesystem::path& contextDir, const dockerfile::DockerIgnore& ignore,
                             const std::filesystem::path& statCacheFile = {}, std::stop_token cancel = {});

} // namespace cachescope::solver
