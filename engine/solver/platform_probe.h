#pragma once
// "Platform differs" (spec §9, cause 4): exec keys and image manifest keys include the platform, file
// and merge keys do not, so a cache built for another platform misses at the first RUN (or at the base
// image). Caches hold only digests; the probe finds the platform by computing: it re-keys the graph for
// other common platforms — image and exec ops built for this build's platform get the other one, as do
// the TARGETPLATFORM/TARGETOS/TARGETARCH/TARGETVARIANT values in RUN environments — and matches it
// again. A step some source knows under platform P was cached for P.
#include "solver/cache_matcher.h"
#include "solver/op_graph.h"
#include "solver/platform.h"

#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

struct PlatformMatch {
    std::string platform; // "linux/amd64"
    std::string source;   // the source that serves it, or "" when it knows the key without a usable result
};

// Platforms probed, in order: the ones BuildKit and Docker Hub images commonly carry.
const std::vector<Platform>& commonPlatforms();

// `graph` re-keyed for `other` wherever an op is keyed for `target` (see above).
OpGraph rekeyForPlatform(const OpGraph& graph, const Platform& target, const Platform& other);

class PlatformProbe {
public:
    // All references must outlive the probe.
    PlatformProbe(const OpGraph& graph, const ContentKeys& content, const std::vector<MatchSource>& sources,
                  Platform target);

    const Platform& target() const { return target_; }
    // The first other platform under which some source knows this node's key (for an image: its
    // manifest key). Re-keys and matches each platform once, on the first call.
    std::optional<PlatformMatch> otherPlatform(int node);

private:
    const OpGraph& graph_;
    const ContentKeys& content_;
    const std::vector<MatchSource>& sources_;
    Platform target_;
    std::optional<std::vector<std::pair<Platform, std::vector<NodeMatch>>>> probed_;
};

} // namespace cachescope::solver
