#pragma once
// Imports several cache sources at once, as BuildKit does with several --cache-from: each on its
// own thread, each failure isolated (ok=false, error names the source), results in input order.
#include "cache/cache_spec.h"
#include "cache/imported_cache.h"
#include "cache/provider_factory.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cachescope::cache {

// Never throws for a bad source. maxParallel 0 = one thread per source.
std::vector<ImportedCache> importSources(const std::vector<CacheSpec>& specs, const ProviderFactory& factory,
                                         std::size_t maxParallel = 0);

// Caches imported earlier (the desktop's sources panel), by the spec text they were imported for
// (CacheSpec::raw). A plan or build that is handed them uses what was shown instead of importing again.
using PreImported = std::map<std::string, std::shared_ptr<const ImportedCache>>;

// As importSources, but a spec found in `earlier` is taken from there; only the others are imported.
std::vector<ImportedCache> importSourcesReusing(const std::vector<CacheSpec>& specs, const PreImported& earlier,
                                                const ProviderFactory& factory);

} // namespace cachescope::cache
