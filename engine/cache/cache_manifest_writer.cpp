#include "cache/cache_manifest_writer.h"

#include "base/error.h"
#include "base/go_json.h"
#include "cache/context_manifest.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace cachescope::cache {

namespace media = oci::media;

namespace {

std::string compressionName(media::Compression c)
{
    switch (c) {
    case media::Compression::Uncompressed: return "uncompressed";
    case media::Compression::Gzip: return "gzip";
    case media::Compression::Zstd: return "zstd";
    default: return "unknown";
    }
}

} // namespace

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

void checkCompression(const MarshaledCache& cache, const ExportCompression& wanted)
{
    if (!wanted.force)
        return;
    for (const auto& l : cache.layers) {
        const auto have = media::layerCompression(l.descriptor.mediaType);
        // estargz blobs are gzip blobs with a TOC; telling them apart needs the layer's annotations.
        const bool estargzLayer = !l.descriptor.annotation("containerd.io/snapshot/stargz/toc.digest").empty();
        if (have == wanted.type && estargzLayer == wanted.estargz)
            continue;
        throw Error("force-compression=true: layer " + l.descriptor.digest.str() + " is " +
                    (estargzLayer ? std::string("estargz") : compressionName(have)) + ", " + wanted.name() +
                    " was requested, and recompressing existing blobs is not supported yet "
                    "(drop force-compression to export the blobs as they are)");
    }
}

} // namespace cachescope::cache
