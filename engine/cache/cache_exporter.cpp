#include "cache/cache_exporter.h"

#include "base/error.h"
#include "base/temporary_directory.h"
#include "cache/cache_manifest_writer.h"
#include "cache/export_compression.h"
#include "cache/local_cache_target.h"
#include "cache/registry_cache_target.h"

#include <optional>

namespace cachescope::cache {

MarshaledCache marshalForExport(const ExportGraph& graph, ExportMode mode, const ExportCompression& compression)
{
    ExportGraph filtered = graph;
    applyExportMode(filtered, mode, compression);
    return marshalExportGraph(filtered);
}

CacheExportReport exportCache(const ExportGraph& graph, const CacheExportSpec& spec, const CacheExportOptions& options)
{
    CacheExportReport report;
    report.target = spec.displayName();
    const auto say = [&](const std::string& line) {
        if (options.progress)
            options.progress(line);
    };
    try {
        if (spec.type == "inline")
            throw Error("inline cache is written into the image config by the image exporter, not exported here");
        if (spec.type != "local" && spec.type != "registry")
            throw Error("unsupported cache export type " + spec.type);
        say("preparing build cache for export");
        ExportGraph filtered = graph;
        applyExportMode(filtered, spec.mode, spec.compression);
        std::optional<TemporaryDirectory> scratch; // converted blobs when the caller keeps no store
        std::optional<oci::ContentStore> scratchStore;
        oci::ContentStore* store = options.contentStore;
        if (!store) {
            scratch.emplace("cachescope-convert");
            store = &scratchStore.emplace(scratch->path());
        }
        const CompressionOutcome converted = applyExportCompression(filtered, spec.compression, *store, options.progress);
        report.converted = converted.converted;
        report.reused = converted.reused;
        MarshaledCache cache = marshalExportGraph(filtered);
        report.notes = cache.warnings;
        report.records = cache.config.records.size();
        report.layers = cache.config.layers.size();
        if (cache.config.layers.empty()) {
            say("skipping cache export for empty result");
            report.skipped = true;
            return report;
        }
        const CacheBlobs blobs = writeCacheBlobs(cache, spec.ociMediaTypes, spec.imageManifest, options.contextManifest);
        report.config = blobs.config;
        if (spec.type == "local") {
            say("exporting cache to client directory");
            report.manifest = writeLocalCache(blobs, spec.dest, spec.tag, options.progress);
        } else {
            say("exporting cache to registry");
            registry::RegistryOptions ro = options.registry;
            if (spec.insecure)
                ro.insecure = true;
            report.manifest = pushRegistryCache(blobs, spec.ref, std::move(ro), options.progress);
        }
        report.ok = true;
        return report;
    } catch (const std::exception& e) {
        std::string message = e.what();
        // The targets already name themselves; keep one prefix.
        if (message.rfind("local cache export", 0) != 0 && message.rfind("registry cache export", 0) != 0)
            message = report.target + ": " + message;
        if (!spec.ignoreError)
            throw Error(message);
        report.warning = message;
        say("cache export failed (ignore-error=true): " + message);
        return report;
    }
}

} // namespace cachescope::cache
