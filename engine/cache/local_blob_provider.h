#pragma once
// Blobs of a `type=local` cache: an OCI layout directory, the tag looked up in index.json the way
// BuildKit's client does (spec §2.2: io.containerd.image.name first, then
// org.opencontainers.image.ref.name), an explicit digest overriding the tag.
#include "cache/blob_provider.h"
#include "cache/cache_spec.h"

#include <filesystem>
#include <optional>

namespace cachescope::cache {

class LocalBlobProvider : public BlobProvider {
public:
    LocalBlobProvider(std::filesystem::path src, std::string tag = "latest", std::string digest = {});
    // From a type=local spec (src, tag, digest).
    explicit LocalBlobProvider(const CacheSpec& spec);

    std::string describe() const override;
    oci::Descriptor resolve() override;
    std::string readBlob(const oci::Descriptor& desc, std::size_t maxBytes) override;
    bool blobExists(const oci::Descriptor& desc) override;

    const std::filesystem::path& src() const { return src_; }

private:
    std::filesystem::path blobPath(const oci::Digest& d) const;

    std::filesystem::path src_;
    std::string tag_;
    std::string digest_;
};

} // namespace cachescope::cache
