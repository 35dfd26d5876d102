#include "cache/import_report.h"

#include "oci/media_types.h"

#include <cstdio>
#include <sstream>

namespace cachescope::cache {

namespace {

std::string humanBytes(std::int64_t bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

nlohmann::ordered_json layerJson(const oci::Descriptor& d, std::uint8_t flags)
{
    nlohmann::ordered_json j;
    j["blob"] = d.digest.str();
    j["size"] = d.size;
    j["mediaType"] = d.mediaType;
    j["createdAt"] = d.annotation(oci::media::AnnotationCreatedAt);
    j["diffID"] = d.annotation(oci::media::AnnotationUncompressed);
    j["missing"] = (flags & KeyGraph::BlobMissing) != 0;
    return j;
}

nlohmann::ordered_json graphJson(const ImportedGraph& ig)
{
    const KeyGraph& g = ig.graph;
    nlohmann::ordered_json out;
    out["platform"] = ig.platform;
    out["manifestDigest"] = ig.manifestDigest.str();
    out["configDigest"] = ig.configDigest.str();
    nlohmann::ordered_json roots = nlohmann::ordered_json::array();
    for (ItemId id : g.rootItems())
        roots.push_back(g.digest(id).str());
    out["roots"] = roots;
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < g.itemCount(); ++i) {
        const auto id = static_cast<ItemId>(i);
        const KeyItem& item = g.item(id);
        nlohmann::ordered_json r;
        r["digest"] = g.digest(id).str();
        nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
        for (const auto& alternatives : item.parents) {
            nlohmann::ordered_json alts = nlohmann::ordered_json::array();
            for (const KeyLink& link : alternatives) {
                nlohmann::ordered_json l;
                l["record"] = g.digest(link.parent).str();
                l["selector"] = g.selector(link.selector);
                alts.push_back(l);
            }
            inputs.push_back(alts);
        }
        r["inputs"] = inputs;
        if (const ResultChain* best = g.bestResult(id)) {
            nlohmann::ordered_json result;
            result["createdAt"] = best->createdAt.text;
            result["usable"] = g.resultUsable(*best);
            nlohmann::ordered_json chain = nlohmann::ordered_json::array();
            for (LayerSlot slot : g.chainSlots(*best))
                chain.push_back(layerJson(g.layer(slot), g.layerFlags(slot)));
            result["chain"] = chain;
            r["result"] = result;
        } else {
            r["result"] = nullptr;
        }
        records.push_back(r);
    }
    out["recordList"] = records;
    return out;
}

} // namespace

nlohmann::ordered_json importReportJson(const ImportedCache& c)
{
    nlohmann::ordered_json j;
    j["spec"] = c.spec.raw;
    j["source"] = c.source;
    j["ok"] = c.ok;
    j["error"] = c.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.error);
    if (!c.ok) {
        j["problems"] = nlohmann::ordered_json::array();
        return j;
    }
    j["form"] = std::string(cacheFormName(c.form));
    j["manifestDigest"] = c.manifestDigest.str();
    j["manifestMediaType"] = c.manifestMediaType;
    j["manifestSize"] = c.manifestSize;
    j["configSize"] = c.configSize;
    j["records"] = c.recordCount();
    j["layers"] = c.layerCount();
    j["results"] = c.resultCount();
    j["blobBytes"] = c.blobBytes;
    j["missingBlobs"] = c.missingBlobs;
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& p : c.problems)
        problems.push_back({{"kind", p.kind}, {"message", p.message}});
    j["problems"] = problems;
    nlohmann::ordered_json graphs = nlohmann::ordered_json::array();
    for (const auto& g : c.graphs)
        graphs.push_back(graphJson(g));
    j["graphs"] = graphs;
    return j;
}

nlohmann::ordered_json importReportJson(const std::vector<ImportedCache>& imported)
{
    nlohmann::ordered_json sources = nlohmann::ordered_json::array();
    for (const auto& c : imported)
        sources.push_back(importReportJson(c));
    return {{"sources", sources}};
}

std::string importReportText(const ImportedCache& c, bool verbose)
{
    std::ostringstream out;
    if (!c.ok) {
        out << "✗ " << c.spec.raw << "\n  error: " << c.error << "\n";
        return out.str();
    }
    out << "✓ " << c.spec.raw << "\n";
    out << "  source     " << c.source << "\n";
    out << "  form       " << cacheFormName(c.form) << " (" << c.manifestMediaType << ")\n";
    out << "  manifest   " << c.manifestDigest.str() << ", " << c.manifestSize << " bytes\n";
    out << "  config     " << c.configSize << " bytes\n";
    out << "  records    " << c.recordCount() << " (" << c.resultCount() << " results)\n";
    out << "  layers     " << c.layerCount() << ", " << humanBytes(c.blobBytes) << " in listed blobs\n";
    for (const auto& ig : c.graphs) {
        const KeyGraph& g = ig.graph;
        if (!ig.platform.empty())
            out << "  platform   " << ig.platform << " (image manifest " << ig.manifestDigest.shortForm() << ")\n";
        out << "  roots      " << g.rootCount() << "\n";
        for (ItemId id : g.rootItems())
            out << "    " << g.digest(id).str() << "\n";
        if (!verbose)
            continue;
        out << "  records\n";
        for (std::size_t i = 0; i < g.itemCount(); ++i) {
            const auto id = static_cast<ItemId>(i);
            const KeyItem& item = g.item(id);
            if (item.parents.empty())
                continue;
            out << "    " << g.digest(id).str() << "\n";
            for (std::size_t input = 0; input < item.parents.size(); ++input) {
                out << "      input " << input << ":";
                for (const KeyLink& link : item.parents[input]) {
                    out << " " << g.digest(link.parent).shortForm();
                    if (link.selector)
                        out << " [" << g.selector(link.selector).substr(0, 19) << "…]";
                }
                out << "\n";
            }
            if (const ResultChain* best = g.bestResult(id)) {
                out << "      result (" << best->createdAt.text << ")" << (g.resultUsable(*best) ? "" : " NOT LOADABLE")
                    << "\n";
                for (LayerSlot slot : g.chainSlots(*best)) {
                    const oci::Descriptor& d = g.layer(slot);
                    out << "        " << d.digest.str() << "  " << humanBytes(d.size) << "  "
                        << d.annotation(oci::media::AnnotationCreatedAt)
                        << ((g.layerFlags(slot) & KeyGraph::BlobMissing) ? "  MISSING" : "") << "\n";
                }
            } else {
                out << "      no result (key only)\n";
            }
        }
    }
    if (c.problems.empty()) {
        out << "  problems   none\n";
    } else {
        out << "  problems   " << c.problems.size() << "\n";
        for (const auto& p : c.problems)
            out << "    " << p.kind << ": " << p.message << "\n";
    }
    return out.str();
}

} // namespace cachescope::cache
