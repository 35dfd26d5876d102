#pragma once
// The providers the app and the CLI use: type=local over an OCI layout, type=registry (and the
// inline cache of an image, which is read through the registry importer) over the Distribution API.
#include "cache/provider_factory.h"

namespace cachescope::cache {

ProviderFactory defaultProviderFactory();

} // namespace cachescope::cache
