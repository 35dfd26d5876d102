#pragma once
// The cache export the BuildSession calls once a build is done (spec §1.3, §2, §3, §6):
//
//   ExportGraph graph = …;                       // the build's keys (and re-exported imports)
//   auto spec = parseCacheExportSpec("type=local,dest=/tmp/c,mode=max");
//   CacheExportReport r = exportCache(graph, spec);
//
// mode from the spec filters the results (applyExportMode), the compression asked for is applied
// to the layers (applyExportCompression, export_compression.h), CacheChains merges and marshals,
// the config and manifest are written in the form the spec asks for, and the target is written
// (local: blobs, then index.json last; registry: blobs, config, manifest last). type=inline is
// not a target of its own: the image exporter calls inlineCacheValue() (inline_cache_export.h).
#include "cache/cache_chains.h"
#include "cache/cache_export_spec.h"
#include "cache/export_graph.h"
#include "cache/export_progress.h"
#include "registry/registry_client.h"

#include <string>
#include <vector>

namespace cachescope::cache {

struct CacheExportOptions {
    ExportProgress progress;
    // Credentials, retries, parallelism and cancel of the registry target; `insecure` is also set
    // when the spec says registry.insecure=true.
    registry::RegistryOptions registry;
    // The build's context manifest JSON (cache/context_manifest.h), written as an extra blob so a
    // dry run elsewhere can name the files behind a context miss; "" for none.
    std::string contextManifest;
    // Where blobs converted to the requested compression go and are found again by later exports
    // (the build's content store); a temporary store for this export alone when null.
    oci::ContentStore* contentStore = nullptr;
};

struct CacheExportReport {
    std::string target;   // spec.displayName()
    bool ok = false;      // written (false when skipped or failed under ignore-error)
    bool skipped = false; // no layers: "skipping cache export for empty result"
    std::string warning;  // the failure ignore-error=true turned into a warning
    oci::Descriptor manifest;
    oci::Descriptor config;
    std::size_t records = 0;
    std::size_t layers = 0;
    std::size_t converted = 0; // layer blobs recompressed for the requested compression
    std::size_t reused = 0;    // layer blobs taken from an earlier conversion
    std::vector<std::string> notes; // results left out of the export and why
};

// Throws Error("<target>: <cause>") unless spec.ignoreError, in which case the cause comes back
// in `warning`. A graph with nothing to export is not an error (skipped).
CacheExportReport exportCache(const ExportGraph& graph, const CacheExportSpec& spec,
                              const CacheExportOptions& options = {});

// The steps before writing, for callers and tests that want the blobs themselves.
MarshaledCache marshalForExport(const ExportGraph& graph, ExportMode mode, const ExportCompression& compression = {});

} // namespace cachescope::cache
