#include "cache/default_providers.h"

#include "cache/registry_blob_provider.h"

namespace cachescope::cache {

ProviderFactory defaultProviderFactory()
{
    ProviderFactory factory = ProviderFactory::withLocal();
    factory.add("registry", [](const CacheSpec& spec) { return std::make_unique<RegistryBlobProvider>(spec); });
    return factory;
}

} // namespace cachescope::cache
