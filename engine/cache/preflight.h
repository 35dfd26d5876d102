#pragma once
// The checks BuildKit only makes late (when a result is loaded), made up front: every listed
// blob exists (stat or HEAD, several at a time), every layer used by a result has a diffID.
// Findings are flagged on the key graphs (so the solver skips those results) and listed as
// problems with the results they break.
#include "cache/blob_provider.h"
#include "cache/imported_cache.h"

namespace cachescope::cache {

void preflightCache(BlobProvider& provider, ImportedCache& cache);

} // namespace cachescope::cache
