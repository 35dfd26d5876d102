#include "cache/default_providers.h"

#include "cache/registry_blob_provider.h"

namespace cachescope::cache {

ProviderFactory defaultProviderFactory(std::function<bool()> cancelled)
{
    ProviderFactory factory = ProviderFactory::withLocal();
    factory.add("registry", [cancelled](const CacheSpec& spec) {
        registry::RegistryOptions options;
        options.cancelled = cancelled;
        return std::make_unique<RegistryBlobProvider>(spec, std::move(options));
    });
    return factory;
}

} // namespace cachescope::cache
