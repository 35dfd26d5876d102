#pragma once
// Where an exported layer's blob comes from: a content store on disk (layers the build wrote,
// a local cache that was imported) or a registry repository (an imported registry cache, whose
// blobs stay remote until an export needs them). The exporter asks `available` before it uses
// a result (BuildKit's Info check, spec §1.3) and `fetch` when a target lacks the blob.
#include "oci/content_store.h"
#include "oci/descriptor.h"
#include "registry/registry_client.h"

#include <filesystem>
#include <memory>
#include <string>

namespace cachescope::cache {

class LayerSource {
public:
    virtual ~LayerSource() = default;
    virtual std::string describe() const = 0;
    // Whether the blob can be obtained. Called from several threads.
    virtual bool available(const oci::Descriptor& desc) = 0;
    // The store holding the blob when it is on local disk (the registry target pushes from it
    // directly); nullptr for remote sources.
    virtual const oci::ContentStore* localStore() const { return nullptr; }
    // Puts the blob into `into` (verified; nothing partial on failure). Throws Error naming the blob.
    virtual void fetch(const oci::Descriptor& desc, oci::ContentStore& into) = 0;
};

// Blobs under <root>/blobs/sha256/ (an OCI layout or the engine's content store).
class StoreLayerSource : public LayerSource {
public:
    explicit StoreLayerSource(std::filesystem::path root);
    std::string describe() const override;
    bool available(const oci::Descriptor& desc) override;
    const oci::ContentStore* localStore() const override { return &store_; }
    // Hard-links the blob when both stores are on one filesystem, else copies it through a
    // verifying writer. Either way the name appears atomically.
    void fetch(const oci::Descriptor& desc, oci::ContentStore& into) override;

private:
    oci::ContentStore store_;
};

// Blobs of one registry repository.
class RegistryLayerSource : public LayerSource {
public:
    RegistryLayerSource(std::shared_ptr<registry::RegistryClient> client, std::string repo);
    std::string describe() const override;
    bool available(const oci::Descriptor& desc) override;
    void fetch(const oci::Descriptor& desc, oci::ContentStore& into) override;
    registry::RegistryClient& client() { return *client_; }
    const std::string& host() const { return client_->host(); }
    const std::string& repository() const { return repo_; }

private:
    std::shared_ptr<registry::RegistryClient> client_;
    std::string repo_;
};

} // namespace cachescope::cache
