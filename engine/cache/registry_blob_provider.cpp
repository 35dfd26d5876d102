#include "cache/registry_blob_provider.h"

#include "base/error.h"
#include "oci/media_types.h"

namespace cachescope::cache {

namespace {
registry::RegistryOptions optionsFor(const CacheSpec& spec, registry::RegistryOptions options)
{
    const std::string insecure = spec.attr("registry.insecure");
    if (!insecure.empty())
        options.insecure = insecure == "true" || insecure == "1";
    return options;
}
} // namespace

RegistryBlobProvider::RegistryBlobProvider(const CacheSpec& spec, registry::RegistryOptions options)
{
    const std::string ref = spec.attr("ref");
    if (ref.empty())
        throw Error(spec.raw + ": type=registry needs ref=<image reference>");
    ref_ = registry::Reference::parse(ref);
    client_ = std::make_unique<registry::RegistryClient>(ref_.apiHost(), optionsFor(spec, std::move(options)));
}

std::string RegistryBlobProvider::describe() const
{
    return "registry cache " + ref_.str();
}

oci::Descriptor RegistryBlobProvider::resolve()
{
    std::lock_guard lock(mutex_);
    if (!top_)
        top_ = client_->getManifest(ref_.path, ref_.tagOrDigest());
    return top_->descriptor;
}

std::string RegistryBlobProvider::readBlob(const oci::Descriptor& desc, std::size_t maxBytes)
{
    {
        std::lock_guard lock(mutex_);
        if (top_ && top_->descriptor.digest == desc.digest) {
            if (top_->bytes.size() > maxBytes)
                throw Error("manifest " + desc.digest.str() + " is too large (" + std::to_string(top_->bytes.size()) +
                            " > " + std::to_string(maxBytes) + ")");
            return top_->bytes;
        }
    }
    // Manifests (index children) live under /manifests/, everything else under /blobs/.
    if (oci::media::isManifest(desc.mediaType) || oci::media::isIndex(desc.mediaType))
        return client_->getManifest(ref_.path, desc.digest.str(), maxBytes).bytes;
    return client_->fetchBlobBytes(ref_.path, desc, maxBytes);
}

bool RegistryBlobProvider::blobExists(const oci::Descriptor& desc)
{
    if (oci::media::isManifest(desc.mediaType) || oci::media::isIndex(desc.mediaType))
        return client_->headManifest(ref_.path, desc.digest.str()).has_value();
    return client_->headBlob(ref_.path, desc.digest).has_value();
}

} // namespace cachescope::cache
