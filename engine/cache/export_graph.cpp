#include "cache/export_graph.h"

#include "oci/media_types.h"

namespace cachescope::cache {

namespace {

// cachestorage.go LoadRemotes: any blob of the requested type matches; with force one that is not
// undoes the match. The whole chain goes or none of it.
bool resultSuits(const ExportResult& result, const ExportCompression& compression)
{
    bool match = false;
    for (const ExportLayer& l : result.layers) {
        const bool m = blobSuitsCompression(l.descriptor, compression);
        match = match || m;
        if (compression.force && !m)
            return false;
    }
    return match;
}

// A record exported remote-only: its local results keep their existing blobs (dropped when this
// build created them), its imported results are replaced by the first one whose blobs suit.
void keepRemoteOnly(ExportRecord& record, const ExportCompression& compression)
{
    bool picked = false;
    std::erase_if(record.results, [&](ExportResult& r) {
        if (!r.imported)
            return !record.finalChain && !r.preexisting;
        if (picked || !resultSuits(r, compression))
            return true;
        picked = true;
        r.blobsAsImported = true;
        return false;
    });
}

} // namespace

bool blobSuitsCompression(const oci::Descriptor& blob, const ExportCompression& compression)
{
    std::string_view wanted;
    switch (compression.type) {
    case oci::media::Compression::Uncompressed: wanted = oci::media::OciLayer; break;
    case oci::media::Compression::Gzip: wanted = oci::media::OciLayerGzip; break; // estargz too
    case oci::media::Compression::Zstd: wanted = oci::media::OciLayerZstd; break;
    case oci::media::Compression::Unknown: return false;
    }
    return oci::media::toOciLayerType(blob.mediaType) == wanted;
}

void applyExportMode(ExportGraph& graph, ExportMode mode, const ExportCompression& compression)
{
    for (auto& record : graph.records) {
        if (record.inputs.empty()) {
            record.results.clear();
            continue;
        }
        if (mode == ExportMode::Max || record.finalResult) {
            // Exported in full from the result this build loaded (BuildKit resolves its blobs).
            std::erase_if(record.results, [](const ExportResult& r) { return r.variant; });
            continue;
        }
        keepRemoteOnly(record, compression);
    }
}

oci::Descriptor exportLayerDescriptor(std::string mediaType, const oci::Digest& blob, std::int64_t size,
                                      const oci::Digest& diffId, const Timestamp& createdAt)
{
    oci::Descriptor d;
    d.mediaType = std::move(mediaType);
    d.digest = blob;
    d.size = size;
    d.annotations[std::string(oci::media::AnnotationUncompressed)] = diffId.str();
    if (createdAt.known())
        d.annotations[std::string(oci::media::AnnotationCreatedAt)] = createdAt.text;
    return d;
}

} // namespace cachescope::cache
