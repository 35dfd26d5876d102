#include "cache/export_graph.h"

#include "oci/media_types.h"

namespace cachescope::cache {

void applyExportMode(ExportGraph& graph, ExportMode mode)
{
    for (auto& record : graph.records) {
        if (record.inputs.empty()) {
            record.results.clear();
            continue;
        }
        if (mode == ExportMode::Max || record.finalChain)
            continue;
        std::erase_if(record.results, [](const ExportResult& r) { return !r.preexisting; });
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
