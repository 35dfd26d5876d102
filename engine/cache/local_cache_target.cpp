#include "cache/local_cache_target.h"

#include "base/error.h"
#include "oci/oci_layout.h"

#include <set>

namespace cachescope::cache {

oci::Descriptor writeLocalCache(const CacheBlobs& blobs, const std::filesystem::path& dest, const std::string& tag,
                                const ExportProgress& progress)
{
    const auto say = [&](const std::string& line) {
        if (progress)
            progress(line);
    };
    try {
        auto layout = oci::OciLayout::create(dest);
        std::set<oci::Digest> done;
        for (const auto& l : blobs.layers) {
            if (!done.insert(l.descriptor.digest).second)
                continue;
            if (!layout.blobs().has(l.descriptor.digest))
                l.source->fetch(l.descriptor, layout.blobs());
            say("writing layer " + l.descriptor.digest.str());
        }
        for (const auto& e : blobs.extras)
            layout.blobs().put(e.bytes, e.descriptor.mediaType);
        layout.blobs().put(blobs.configBytes, blobs.config.mediaType);
        say("writing config " + blobs.config.digest.str());
        layout.blobs().put(blobs.manifestBytes, blobs.manifest.mediaType);
        const bool imageManifest = blobs.manifest.mediaType == "application/vnd.oci.image.manifest.v1+json";
        say(std::string(imageManifest ? "writing cache image manifest " : "writing cache manifest ") +
            blobs.manifest.digest.str());
        layout.setTag(tag, blobs.manifest);
        say("exported cache to " + dest.string() + " (tag " + tag + ")");
        return blobs.manifest;
    } catch (const std::exception& e) {
        rethrowWithContext("local cache export " + dest.string(), e);
    }
}

} // namespace cachescope::cache
