#pragma once
// Imports several cache sources at once, as BuildKit does with several --cache-from: each on its
// own thread, each failure isolated (ok=false, error names the source), results in input order.
#include "cache/cache_spec.h"
#include "cache/imported_cache.h"
#include "cache/provider_factory.h"

#include <vector>

namespace cachescope::cache {

// Never throws for a bad source. maxParallel 0 = one thread per source.
std::vector<ImportedCache> importSources(const std::vector<CacheSpec>& specs, const ProviderFactory& factory,
                                         std::size_t maxParallel = 0);

} // namespace cachescope::cache
