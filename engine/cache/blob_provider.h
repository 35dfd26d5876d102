#pragma once
// Where an importer gets a cache's blobs from. The local provider reads an OCI layout; the
// registry provider (engine/registry side) implements the same four calls over HTTP.
#include "oci/descriptor.h"

#include <cstddef>
#include <string>

namespace cachescope::cache {

class BlobProvider {
public:
    virtual ~BlobProvider() = default;

    // Names the source in messages: "local cache /x (tag latest)", "registry cache host/repo:tag".
    virtual std::string describe() const = 0;
    // The top manifest or index descriptor for the source's tag or digest. Throws Error when the
    // source is unreachable or the tag/digest is unknown.
    virtual oci::Descriptor resolve() = 0;
    // Reads a whole blob and verifies it against the descriptor's digest (and size, when known).
    // Throws Error naming the blob when it is missing, larger than maxBytes, truncated or corrupt.
    virtual std::string readBlob(const oci::Descriptor& desc, std::size_t maxBytes) = 0;
    // Whether the blob exists (stat, HEAD). Called from several threads at once during preflight.
    virtual bool blobExists(const oci::Descriptor& desc) = 0;
};

} // namespace cachescope::cache
