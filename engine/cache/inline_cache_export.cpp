#include "cache/inline_cache_export.h"

#include "base/base64.h"
#include "cache/cache_chains.h"
#include "oci/media_types.h"

#include <map>

namespace cachescope::cache {

namespace {

// The image layer index of a blob: by digest, else by the diffID the image lists.
std::optional<int> imageIndex(const oci::Descriptor& layer, const std::vector<oci::Descriptor>& image)
{
    for (std::size_t i = 0; i < image.size(); ++i)
        if (image[i].digest == layer.digest)
            return static_cast<int>(i);
    const std::string diffId = layer.annotation(oci::media::AnnotationUncompressed);
    if (!diffId.empty())
        for (std::size_t i = 0; i < image.size(); ++i)
            if (image[i].annotation(oci::media::AnnotationUncompressed) == diffId || image[i].digest.str() == diffId)
                return static_cast<int>(i);
    return std::nullopt;
}

} // namespace

std::optional<std::string> inlineCacheRecords(const ExportGraph& graph, const std::vector<oci::Descriptor>& imageLayers)
{
    ExportGraph g = graph;
    // BuildKit runs it with the image exporter's compression; the image writer here writes gzip.
    applyExportMode(g, ExportMode::Min, ExportCompression{});
    // Results with a blob outside the image are dropped, as BuildKit's re-parse does.
    for (auto& rec : g.records)
        std::erase_if(rec.results, [&](const ExportResult& r) {
            for (const auto& l : r.layers)
                if (!imageIndex(l.descriptor, imageLayers))
                    return true;
            return false;
        });
    MarshaledCache cache = marshalExportGraph(g);
    if (cache.config.layers.empty())
        return std::nullopt;

    const auto& layers = cache.config.layers;
    for (auto& rec : cache.config.records) {
        std::vector<Result> kept;
        for (const auto& res : rec.results) {
            std::vector<int> chain; // image indexes, bottom first
            for (int l = res.layer; l != -1; l = layers[static_cast<std::size_t>(l)].parent)
                chain.insert(chain.begin(), *imageIndex(cache.layers[static_cast<std::size_t>(l)].descriptor, imageLayers));
            bool prefix = true;
            for (std::size_t k = 0; k < chain.size(); ++k)
                prefix = prefix && chain[k] == static_cast<int>(k);
            if (prefix) {
                kept.push_back(Result{static_cast<int>(chain.size()) - 1, res.createdAt});
            } else {
                Chain c;
                c.layers = std::move(chain);
                rec.chains.push_back(std::move(c)); // createdAt stays the zero time
            }
        }
        rec.results = std::move(kept);
    }
    return serializeInlineRecords(cache.config.records);
}

std::optional<std::string> inlineCacheValue(const ExportGraph& graph, const std::vector<oci::Descriptor>& imageLayers)
{
    auto records = inlineCacheRecords(graph, imageLayers);
    if (!records)
        return std::nullopt;
    return base64Encode(*records);
}

} // namespace cachescope::cache
