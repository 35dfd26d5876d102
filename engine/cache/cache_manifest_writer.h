#pragma once
// The blobs of a cache export (spec §3.2): the cache config (Go JSON) and the manifest that lists
// it, in one of two forms:
//   image-manifest=true  an OCI image manifest, config = the cache config, layers in config order;
//   image-manifest=false an index (OCI, or a Docker manifest list with oci-mediatypes=false)
//                        listing the layer blobs in config order and the config descriptor last.
// Layer media types are converted to OCI or Docker ones as oci-mediatypes says.
#include "cache/cache_chains.h"
#include "cache/cache_export_spec.h"
#include "oci/descriptor.h"

#include <string>
#include <vector>

namespace cachescope::cache {

struct CacheBlobs {
    std::string configBytes;
    oci::Descriptor config;
    std::string manifestBytes;
    oci::Descriptor manifest; // the descriptor index.json / the tag points at
    std::vector<ExportLayer> layers; // as listed (config order, converted media types)
};

// Throws Error for image-manifest without OCI media types (BuildKit's message) and when the
// cache has no layers (callers skip such exports first).
CacheBlobs writeCacheBlobs(const MarshaledCache& cache, bool ociMediaTypes, bool imageManifest);

// Refuses what needs recompressing existing blobs: force-compression with a layer that is not
// already in the requested compression. Without force, blobs are exported as they are (BuildKit
// accepts any variant then). Throws Error naming the blob and both compressions.
void checkCompression(const MarshaledCache& cache, const ExportCompression& wanted);

} // namespace cachescope::cache
