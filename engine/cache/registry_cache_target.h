#pragma once
// `--cache-to type=registry,ref=REF` (spec §3.2): layer blobs (in parallel, skipped when the
// repository has them), then the config blob, then the manifest under REF's tag — last, so the
// tag never names content the registry lacks.
#include "cache/cache_manifest_writer.h"
#include "cache/export_progress.h"
#include "registry/registry_client.h"

#include <string>

namespace cachescope::cache {

// Returns the pushed manifest descriptor. Throws Error naming the reference and the cause.
oci::Descriptor pushRegistryCache(const CacheBlobs& blobs, const std::string& ref,
                                  registry::RegistryOptions options = {}, const ExportProgress& progress = {});

} // namespace cachescope::cache
