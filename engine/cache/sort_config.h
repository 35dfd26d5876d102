#pragma once
// BuildKit's sortConfig (cache/remotecache/v1/utils.go, spec §1.3), so that the cache config —
// stored under its own digest — is the same bytes for the same cache.
#include "cache/cache_config.h"

#include <vector>

namespace cachescope::cache {

// Layers by (blob, old parent index); records by digest, then input count, then per input the
// number of alternatives, then per alternative its selector and the digest of the linked record;
// then every layer and link index is remapped and each alternatives array sorted by link.
// Returns the new position of every old layer index (callers keep side tables in step).
std::vector<int> sortConfig(CacheConfig& config);

} // namespace cachescope::cache
