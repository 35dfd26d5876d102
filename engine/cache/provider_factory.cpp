#include "cache/provider_factory.h"

#include "base/error.h"
#include "cache/local_blob_provider.h"

namespace cachescope::cache {

ProviderFactory ProviderFactory::withLocal()
{
    ProviderFactory f;
    f.add("local", [](const CacheSpec& spec) { return std::make_unique<LocalBlobProvider>(spec); });
    return f;
}

const ProviderFactory::Creator* ProviderFactory::find(const std::string& type) const
{
    if (auto it = creators_.find(type); it != creators_.end())
        return &it->second;
    if (type == "inline")
        return find("registry");
    return nullptr;
}

bool ProviderFactory::supports(const std::string& type) const { return find(type) != nullptr; }

std::unique_ptr<BlobProvider> ProviderFactory::create(const CacheSpec& spec) const
{
    const Creator* creator = find(spec.type);
    if (!creator)
        throw Error("type=" + spec.type + " import is not available (no provider registered for it)");
    auto provider = (*creator)(spec);
    if (!provider)
        throw Error("type=" + spec.type + ": the provider could not be created");
    return provider;
}

} // namespace cachescope::cache
