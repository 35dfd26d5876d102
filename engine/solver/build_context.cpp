#include "solver/build_context.h"

#include "base/error.h"
#include "base/files.h"

namespace cachescope::solver {

namespace fs = std::filesystem;

dockerfile::DockerIgnore readDockerIgnore(const fs::path& contextDir)
{
    const fs::path file = contextDir / ".dockerignore";
    if (!fs::exists(file))
        return {};
    try {
        return dockerfile::DockerIgnore::parse(readFile(file));
    } catch (const Error& e) {
        throw Error(file.string() + ": " + e.what());
    }
}

ContentTree scanBuildContext(const fs::path& contextDir, const dockerfile::DockerIgnore& ignore,
                             const fs::path& statCacheFile, std::stop_token cancel)
{
    ScanOptions o;
    o.cancel = std::move(cancel);
    o.mode = ScanMode::BuildContext;
    o.statCacheFile = statCacheFile;
    if (!ignore.empty())
        o.excluded = [ignore](const std::string& rel, bool) { return ignore.excluded(rel); };
    return ContentTree::scan(contextDir, std::move(o));
}

} // namespace cachescope::solver
