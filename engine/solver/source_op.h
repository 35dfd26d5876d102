#pragma once
// LLB source ops that CacheScope keys: container images and local directories.
#include "oci/digest.h"
#include "solver/platform.h"

#include <optional>
#include <string>
#include <vector>

namespace cachescope::solver {

// `FROM <image>` / `COPY --from=<image>`, pinned to what the reference resolved to.
struct ImageSource {
    oci::Digest manifestDigest; // the top-level manifest or index digest the tag resolved to
    Platform platform;          // the platform requested for the image
    std::vector<oci::Digest> diffIds; // rootfs.diff_ids of the image config, bottom first
    std::optional<int> layerLimit;    // pb "Limit" (image layer limit), rarely set
};

// A local directory sent by the client (`--local context=…`). Its key carries the session ID,
// so BuildKit turns it into a random key: it never matches across builds and is never exported.
struct LocalSource {
    std::string name;      // "context", "dockerfile"
    std::string sessionId;
    std::optional<std::vector<std::string>> includePatterns; // nullopt encodes as null
    std::optional<std::vector<std::string>> excludePatterns;
    std::optional<std::vector<std::string>> followPaths;
};

// OCI chain ID: chain(1) = diffID(1); chain(n) = sha256(chain(n-1) + " " + diffID(n)).
// Empty input gives an empty Digest.
oci::Digest chainId(const std::vector<oci::Digest>& diffIds);
// The chain IDs of every prefix: [k] is chainId of the first k+1 diffIDs.
std::vector<oci::Digest> chainIds(const std::vector<oci::Digest>& diffIds);

} // namespace cachescope::solver
