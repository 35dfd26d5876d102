#pragma once
// The compression a cache export asks for, applied to its layers as BuildKit v0.24 does
// (spec §2.2, §6):
//   * layers this build created (ExportLayer::created) come out in the requested compression (and
//     compression-level, when one is given);
//   * with force-compression=true every layer does, imported and local ones too;
//   * any other layer keeps its blob, unless a blob of the same diffID in the requested compression
//     exists from an earlier conversion, which is then used (BuildKit prefers the variant asked for);
//   * a result mode=min kept remote-only with its imported blobs (ExportResult::blobsAsImported) is
//     left exactly as imported.
// A conversion streams the blob through exec::recompressLayer into `store` (the build's content
// store) and records it there (<store>/conversions/<diffID hex>.<compression>[-<level>]), so a later export
// reuses it. The layer's diffID (containerd.io/uncompressed) and buildkit/createdat stay; its
// mediaType, digest and size change. Blobs that are remote (a lazily imported registry cache) are
// fetched into `store` first.
#include "cache/cache_export_spec.h"
#include "cache/export_graph.h"
#include "cache/export_progress.h"
#include "oci/content_store.h"

#include <cstddef>
#include <stop_token>

namespace cachescope::cache {

struct CompressionOutcome {
    std::size_t converted = 0; // blobs recompressed now
    std::size_t reused = 0;    // blobs taken from an earlier conversion
};

// Rewrites the layers of `graph` in place. Throws Error naming the layer when a blob cannot be
// obtained or decoded, when its tar does not match its diffID, and for a conversion to estargz
// (an estargz blob is gzip with a table of contents and one gzip member per file chunk, a layout
// the layer writer does not produce; exporting plain gzip under that name would mislead lazy
// pullers).
CompressionOutcome applyExportCompression(ExportGraph& graph, const ExportCompression& wanted, oci::ContentStore& store,
                                          const ExportProgress& progress = {}, std::stop_token cancel = {});

} // namespace cachescope::cache
