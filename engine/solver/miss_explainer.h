#pragma once
// Why a step misses (spec §9), for the first miss on each path, with the evidence CacheScope has:
// caches store only hashes, so it names what is in the key and differs from the Dockerfile's defaults,
// which COPY sources' content key is unknown to every source, whether the base image's keys are known,
// records without results (mode=min) and missing blobs. Steps below a miss are consequences.
#include "dockerfile/stages.h"
#include "solver/cache_matcher.h"
#include "solver/op_graph.h"
#include "solver/platform_probe.h"

#include <map>
#include <string>

namespace cachescope::solver {

struct Explanation {
    std::string cause; // "", "no-source", "base-image-changed", "context-changed", "build-arg-changed",
                       // "definition-changed", "upstream", "key-only", "blob-missing", "stage-output",
                       // "not-evaluated", "platform-differs"
    std::string text;
};

struct ExplainContext {
    const OpGraph& graph;
    const std::vector<NodeMatch>& matches;
    const dockerfile::BuildPlan& plan;
    const dockerfile::Dockerfile& dockerfile; // declared ARG defaults as written
    const std::map<std::string, std::string>& buildArgs;
    std::size_t usableSources = 0;
    std::string sourcesNote; // e.g. "2 sources failed to import: …"
    // Tells a cache built for another platform from a changed definition; null: not checked.
    PlatformProbe* platforms = nullptr;
};

// "platform differs: <what> is cached for linux/amd64 (in <source>), this build is for linux/arm64".
std::string platformDiffers(const std::string& what, const PlatformMatch& match, const Platform& target);

Explanation explainNode(const ExplainContext& ctx, int node);

} // namespace cachescope::solver
