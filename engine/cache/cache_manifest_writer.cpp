#include "cache/cache_manifest_writer.h"

#include "base/error.h"
#include "base/go_json.h"
#include "cache/context_manifest.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace cachescope::cache {

namespace media = oci::media;

CacheBlobs writeCacheBlobs(const MarshaledCache& cache, bool ociMediaTypes, bool imageManifest,
                           std::string_view contextManifest)
{
    if (imageManifest && !ociMediaTypes)
        throw Error("invalid configuration for remote cache, OCI mediatypes are required for image-manifest "
                    "cache format");
    if (cache.config.layers.empty())
        throw Error("skipping cache export for empty result");
    CacheBlobs out;
    out.configBytes = serializeCacheConfig(cache.config);
    out.config.mediaType = std::string(media::BuildkitCacheConfig);
    out.config.digest = oci::Digest::of(out.configBytes);
    out.config.size = static_cast<std::int64_t>(out.configBytes.size());

    for (const auto& layer : cache.layers) {
        ExportLayer l = layer;
        l.descriptor.mediaType = ociMediaTypes ? media::toOciLayerType(l.descriptor.mediaType)
                                               : media::toDockerLayerType(l.descriptor.mediaType);
        out.layers.push_back(std::move(l));
    }
    if (!contextManifest.empty())
        out.extras.push_back({contextManifestDescriptor(contextManifest), std::string(contextManifest)});

    if (imageManifest) {
        oci::Manifest m;
        m.mediaType = std::string(media::OciManifest);
        m.config = out.config;
        for (const auto& l : out.layers)
            m.layers.push_back(l.descriptor);
        for (const auto& e : out.extras)
            m.layers.push_back(e.descriptor);
        out.manifestBytes = goJson(m.toJson());
        out.manifest.mediaType = m.mediaType;
    } else {
        oci::Index idx;
        idx.mediaType = std::string(ociMediaTypes ? media::OciIndex : media::DockerManifestList);
        for (const auto& l : out.layers)
            idx.manifests.push_back(l.descriptor);
        for (const auto& e : out.extras)
            idx.manifests.push_back(e.descriptor);
        idx.manifests.push_back(out.config); // last, as BuildKit writes it
        out.manifestBytes = goJson(idx.toJson());
        out.manifest.mediaType = idx.mediaType;
    }
    out.manifest.digest = oci::Digest::of(out.manifestBytes);
    out.manifest.size = static_cast<std::int64_t>(out.manifestBytes.size());
    return out;
}

} // namespace cachescope::cache
