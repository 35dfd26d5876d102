#pragma once
// Inline cache (spec §4): an image whose config carries `moby.buildkit.cache.v0`, standard
// base64 of a JSON array of records whose layer indexes refer to the image's layers.
#include "cache/cache_config.h"
#include "oci/descriptor.h"
#include "oci/manifest.h"

#include <map>
#include <string>
#include <string_view>

namespace cachescope::cache {

inline constexpr std::string_view kInlineCacheKey = "moby.buildkit.cache.v0";

struct InlineCache {
    bool present = false;   // the image config has the key
    std::string skipReason; // set when BuildKit would skip this image (diff_ids do not match layers)
    std::string platform;   // from the image config: os/architecture[/variant]
    CacheConfig config;     // synthetic layers (parent i-1) + the decoded records
    std::map<oci::Digest, oci::Descriptor> layers; // manifest layers with the annotations BuildKit adds
};

// Reads the inline cache of one image manifest given its config JSON. Throws Error naming `what`
// when the key is present but not base64 or not a records array.
InlineCache readInlineCache(const oci::Manifest& manifest, std::string_view imageConfig, const std::string& what);


} // namespace cachescope::cache
