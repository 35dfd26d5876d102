#pragma once
// The providers the app and the CLI use: type=local over an OCI layout, type=registry (and the
// inline cache of an image, which is read through the registry importer) over the Distribution API.
#include "cache/provider_factory.h"

#include <functional>

namespace cachescope::cache {

// `cancelled` (RegistryOptions::cancelled) is polled by every registry transfer: a cancelled plan or
// build stops waiting on a cache registry at once.
ProviderFactory defaultProviderFactory(std::function<bool()> cancelled = {});

} // namespace cachescope::cache
