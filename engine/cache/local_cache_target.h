#pragma once
// `--cache-to type=local,dest=DIR[,tag=T]` (spec §2.1): an OCI layout. Order is what makes it
// crash safe: layer blobs first (hard-linked or copied from their source, each appearing under
// its name atomically), then the config and manifest blobs, and index.json last, rewritten
// through a rename under index.json.lock (OciLayout::setTag). An export stopped at any point
// leaves index.json pointing at complete content: the old tag, or the new one.
#include "cache/cache_manifest_writer.h"
#include "cache/export_progress.h"

#include <filesystem>
#include <string>

namespace cachescope::cache {

// Returns the descriptor tagged in index.json. Throws Error naming the directory and the cause.
oci::Descriptor writeLocalCache(const CacheBlobs& blobs, const std::filesystem::path& dest, const std::string& tag,
                                const ExportProgress& progress = {});

} // namespace cachescope::cache
