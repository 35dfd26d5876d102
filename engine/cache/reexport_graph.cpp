#include "cache/reexport_graph.h"

#include "base/error.h"
#include "registry/reference.h"

namespace cachescope::cache {

std::vector<std::vector<int>> appendImportedCache(ExportGraph& graph, const ImportedCache& imported,
                                                  std::shared_ptr<LayerSource> source)
{
    std::vector<std::vector<int>> recordsOf;
    if (!imported.ok)
        throw Error("cannot re-export " + imported.source + ": it was not imported (" + imported.error + ")");
    for (const auto& ig : imported.graphs) {
        const KeyGraph& g = ig.graph;
        const int base = static_cast<int>(graph.records.size());
        std::vector<int> mine(g.itemCount());
        for (std::size_t i = 0; i < g.itemCount(); ++i)
            mine[i] = base + static_cast<int>(i);
        for (std::size_t i = 0; i < g.itemCount(); ++i) {
            const auto id = static_cast<ItemId>(i);
            const KeyItem& item = g.item(id);
            ExportRecord rec;
            rec.digest = g.digest(id).str();
            for (const auto& alts : item.parents) {
                std::vector<ExportLink> links;
                for (const auto& l : alts)
                    links.push_back(ExportLink{mine[static_cast<std::size_t>(l.parent)], g.selector(l.selector)});
                rec.inputs.push_back(std::move(links));
            }
            for (const auto& r : item.results) {
                if (!g.resultUsable(r))
                    continue;
                ExportResult res;
                res.createdAt = r.createdAt;
                res.preexisting = true;
                for (auto& d : g.chainLayers(r))
                    res.layers.push_back(ExportLayer{std::move(d), source});
                rec.results.push_back(std::move(res));
            }
            graph.records.push_back(std::move(rec));
        }
        recordsOf.push_back(std::move(mine));
    }
    return recordsOf;
}

std::shared_ptr<LayerSource> layerSourceFor(const ImportedCache& imported, registry::RegistryOptions options)
{
    const CacheSpec& spec = imported.spec;
    if (spec.type == "local")
        return std::make_shared<StoreLayerSource>(spec.attr("src"));
    if (spec.type == "registry" || spec.type == "inline") {
        const auto ref = registry::Reference::parse(spec.attr("ref"));
        if (spec.attr("registry.insecure") == "true")
            options.insecure = true;
        auto client = std::make_shared<registry::RegistryClient>(ref.apiHost(), std::move(options));
        return std::make_shared<RegistryLayerSource>(std::move(client), ref.path);
    }
    throw Error(imported.source + ": cannot re-export blobs of a type=" + spec.type + " cache");
}

ExportGraph exportGraphFromImport(const ImportedCache& imported, registry::RegistryOptions options)
{
    ExportGraph graph;
    appendImportedCache(graph, imported, layerSourceFor(imported, std::move(options)));
    return graph;
}

} // namespace cachescope::cache
