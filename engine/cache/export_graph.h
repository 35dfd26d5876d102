#pragma once
// The key graph a build hands to the cache exporter (BuildKit's ExportTo walk, spec §1.3 and §6):
// one record per cache key, its links per input (alternative parents with selectors), and the
// results it may export as layer chains.
//
// The caller (the BuildSession) fills it: records in any order, links as indexes into `records`.
// Digests are the exported record digests sha256("<D>@<O>"); `random:` digests are accepted and
// skipped by the exporter, and so is every record that then has an input with no parent left.
//
// mode=min/max is a filter the caller applies with applyExportMode() (or by setting `results`
// itself): max keeps every non-root record's results; min keeps the results of records on the
// final result's layer chain (ExportRecord::finalChain) plus results whose blobs already existed
// before this build (ExportResult::preexisting: imported, or pushed by an earlier export).
// Roots never export results in either mode.
//
// In mode=min every record but the final one is exported "remote-only" (solver/exporter.go): an
// imported result (ExportResult::imported) is then looked up in its imported cache with the
// compression asked for (cache/remotecache/v1/cachestorage.go LoadRemotes): the first result of
// the record, in the imported order, with at least one blob of that compression (every blob with
// force-compression=true) is exported with its blobs exactly as imported; when none suits, the
// record is exported key-only. Nothing is converted for it and a chain is never split.
#include "cache/layer_source.h"
#include "cache/cache_export_spec.h"
#include "cache/timestamp.h"
#include "oci/descriptor.h"

#include <memory>
#include <string>
#include <vector>

namespace cachescope::cache {

struct ExportLink {
    int record = -1;      // index into ExportGraph::records
    std::string selector; // a digest string or empty
};

struct ExportLayer {
    // mediaType, digest, size and the annotations containerd.io/uncompressed (required: an
    // importer cannot load a layer without it) and buildkit/createdat.
    oci::Descriptor descriptor;
    std::shared_ptr<LayerSource> source;
    // Written by this build (a step that ran): the export's compression applies to it even
    // without force-compression (BuildKit creates such blobs at export time, in that compression).
    bool created = false;
};

struct ExportResult {
    std::vector<ExportLayer> layers; // bottom first
    Timestamp createdAt;             // the cache record's time; the newest result wins
    bool preexisting = false;        // blobs existed before this build (kept by mode=min)
    // A result recorded in an imported cache (a hit served from --cache-from, not from the local
    // store): mode=min exports it for a dependency only when its blobs suit the compression.
    bool imported = false;
    // Another result of the same imported record that this build did not load (BuildKit records
    // one per compression variant): only the remote-only lookup above may pick it.
    bool variant = false;
    // Exported with the blobs it has (set by applyExportMode for a remote-only imported result):
    // the export's compression is not applied to it.
    bool blobsAsImported = false;
};

struct ExportRecord {
    std::string digest; // oci digest string, or "random:…"
    std::vector<std::vector<ExportLink>> inputs;
    std::vector<ExportResult> results;
    bool finalChain = false; // on the final result's layer chain (kept by mode=min)
    bool finalResult = false; // the final result's own record: never remote-only
};

struct ExportGraph {
    std::vector<ExportRecord> records;

    int add(ExportRecord record)
    {
        records.push_back(std::move(record));
        return static_cast<int>(records.size()) - 1;
    }
};

// Drops the results mode does not export (see above); `compression` is the one the export asks
// for (remote-only lookups of imported results compare their blobs with it). Roots lose theirs in
// both modes.
void applyExportMode(ExportGraph& graph, ExportMode mode, const ExportCompression& compression);

// BuildKit's compression.IsMediaType: the blob's layer type, normalized to its OCI form, is the
// one the compression writes (estargz writes the gzip type; non-distributable types never suit).
bool blobSuitsCompression(const oci::Descriptor& blob, const ExportCompression& compression);

// A descriptor as BuildKit describes a layer it exports (cache/refs.go ociDesc).
oci::Descriptor exportLayerDescriptor(std::string mediaType, const oci::Digest& blob, std::int64_t size,
                                      const oci::Digest& diffId, const Timestamp& createdAt);

} // namespace cachescope::cache
