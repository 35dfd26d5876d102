#pragma once
// Reads a cache (or an image carrying inline cache) from a registry: `type=registry,ref=…`
// with optional `registry.insecure=true`.
#include "cache/blob_provider.h"
#include "cache/cache_spec.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

#include <memory>
#include <mutex>
#include <optional>

namespace cachescope::cache {

class RegistryBlobProvider : public BlobProvider {
public:
    // Throws Error naming the spec when `ref` is missing or not a valid reference.
    explicit RegistryBlobProvider(const CacheSpec& spec, registry::RegistryOptions options = {});

    std::string describe() const override;
    oci::Descriptor resolve() override;
    std::string readBlob(const oci::Descriptor& desc, std::size_t maxBytes) override;
    bool blobExists(const oci::Descriptor& desc) override;

    const registry::Reference& reference() const { return ref_; }
    registry::RegistryClient& client() { return *client_; }

private:
    registry::Reference ref_;
    std::unique_ptr<registry::RegistryClient> client_;
    std::mutex mutex_;
    // resolve() fetches the top manifest whole; readBlob() of it must not fetch it again.
    std::optional<registry::FetchedManifest> top_;
};

} // namespace cachescope::cache
