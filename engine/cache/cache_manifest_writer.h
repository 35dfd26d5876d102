#pragma once
// The blobs of a cache export (spec §3.2): the cache config (Go JSON) and the manifest that lists
// it, in one of two forms:
//   image-manifest=true  an OCI image manifest, config = the cache config, layers in config order;
//   image-manifest=false an index (OCI, or a Docker manifest list with oci-mediatypes=false)
//                        listing the layer blobs in config order and the config descriptor last.
// Layer media types are converted to OCI or Docker ones as oci-mediatypes says. A build's context
// manifest (cache/context_manifest.h), when given, is listed after the layers (before the config in
// the index form) as a blob BuildKit ignores; no config layer names it.
#include "cache/cache_chains.h"
#include "cache/cache_export_spec.h"
#include "oci/descriptor.h"

#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

struct CacheBlobs {
    std::string configBytes;
    oci::Descriptor config;
    std::string manifestBytes;
    oci::Descriptor manifest; // the descriptor index.json / the tag points at
    std::vector<ExportLayer> layers; // as listed (config order, converted media types)
    // Blobs listed besides the layers and the config, written from memory: the context manifest.
    struct Extra {
        oci::Descriptor descriptor;
        std::string bytes;
    };
    std::vector<Extra> extras;
};

// Throws Error for image-manifest without OCI media types (BuildKit's message) and when the
// cache has no layers (callers skip such exports first).
// `contextManifest`: the JSON of the build's context manifest ("" for none).
CacheBlobs writeCacheBlobs(const MarshaledCache& cache, bool ociMediaTypes, bool imageManifest,
                           std::string_view contextManifest = {});

} // namespace cachescope::cache
