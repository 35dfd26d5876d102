#include "cache/cache_chains.h"

#include "base/error.h"
#include "cache/sort_config.h"
#include "oci/media_types.h"

#include <algorithm>
#include <functional>

namespace cachescope::cache {

namespace {

bool sameResult(const ExportResult& a, const ExportResult& b)
{
    if (a.createdAt.nanos != b.createdAt.nanos || a.layers.size() != b.layers.size())
        return false;
    for (std::size_t i = 0; i < a.layers.size(); ++i)
        if (a.layers[i].descriptor.digest != b.layers[i].descriptor.digest)
            return false;
    return true;
}

} // namespace

void CacheChains::addResult(Item& item, const ExportResult& result)
{
    for (const auto& r : item.results)
        if (sameResult(r, result))
            return;
    item.results.push_back(result);
}

void CacheChains::collectDescendants(int item, std::set<int>& out) const
{
    if (!out.insert(item).second)
        return;
    for (const auto& [key, kids] : items_[static_cast<std::size_t>(item)].children)
        for (int kid : kids)
            collectDescendants(kid, out);
}

int CacheChains::add(const std::string& digest, std::vector<std::vector<Dep>> deps,
                     const std::vector<ExportResult>& results)
{
    if (digest.rfind("random:", 0) == 0)
        return -1;
    if (deps.empty()) {
        auto [it, inserted] = roots_.try_emplace(digest, static_cast<int>(items_.size()));
        if (inserted)
            items_.push_back(Item{digest, {}, {}, {}});
        for (const auto& r : results)
            addResult(items_[static_cast<std::size_t>(it->second)], r);
        return it->second;
    }
    for (const auto& alts : deps)
        if (alts.empty())
            return -1;

    // Candidates: items reached from some parent of every input with this digest and selector.
    std::set<int> candidates;
    for (std::size_t i = 0; i < deps.size(); ++i) {
        std::set<int> reach;
        for (const auto& [src, sel] : deps[i]) {
            const auto& kids = items_[static_cast<std::size_t>(src)].children;
            auto found = kids.find(ChildKey{sel, static_cast<int>(i), digest});
            if (found != kids.end())
                reach.insert(found->second.begin(), found->second.end());
        }
        if (i == 0) {
            candidates = std::move(reach);
        } else {
            std::set<int> both;
            std::set_intersection(candidates.begin(), candidates.end(), reach.begin(), reach.end(),
                                  std::inserter(both, both.begin()));
            candidates = std::move(both);
        }
        if (candidates.empty())
            break;
    }

    int id;
    if (!candidates.empty()) {
        id = *candidates.begin();
        for (const auto& r : results)
            addResult(items_[static_cast<std::size_t>(id)], r);
        // A parent that is already below the item would make a loop: BuildKit drops that link.
        std::set<int> below;
        collectDescendants(id, below);
        for (auto& alts : deps)
            std::erase_if(alts, [&](const Dep& d) { return below.count(d.first) != 0; });
    } else {
        id = static_cast<int>(items_.size());
        items_.push_back(Item{digest, {}, {}, {}});
        for (const auto& r : results)
            addResult(items_.back(), r);
    }
    Item& item = items_[static_cast<std::size_t>(id)];
    if (item.parents.size() < deps.size())
        item.parents.resize(deps.size());
    for (std::size_t i = 0; i < deps.size(); ++i)
        for (const auto& [src, sel] : deps[i]) {
            items_[static_cast<std::size_t>(src)].children[ChildKey{sel, static_cast<int>(i), digest}].insert(id);
            items_[static_cast<std::size_t>(id)].parents[i].insert(Dep{src, sel});
        }
    return id;
}

MarshaledCache CacheChains::marshal() const
{
    MarshaledCache out;
    std::vector<int> recordOf(items_.size(), -1);
    std::map<std::string, int> chainIndex; // chain id (blob digests top-down) -> layer index
    std::map<oci::Digest, ExportLayer> descriptors;
    std::map<std::pair<LayerSource*, oci::Digest>, bool> availability;

    const auto usable = [&](const ExportResult& r, std::string& why) {
        if (r.layers.empty()) {
            why = "no layers";
            return false;
        }
        for (const auto& l : r.layers) {
            const auto& d = l.descriptor;
            if (d.annotation(oci::media::AnnotationUncompressed).empty()) {
                why = "layer " + d.digest.str() + " has no containerd.io/uncompressed annotation";
                return false;
            }
            if (!l.source) {
                why = "layer " + d.digest.str() + " has no blob source";
                return false;
            }
            auto key = std::make_pair(l.source.get(), d.digest);
            auto found = availability.find(key);
            if (found == availability.end())
                found = availability.emplace(key, l.source->available(d)).first;
            if (!found->second) {
                why = "blob " + d.digest.str() + " is not available from " + l.source->describe();
                return false;
            }
        }
        return true;
    };

    // Turns a result's layers into config layers; returns the chain id of its top ("" = none).
    const auto marshalLayers = [&](const ExportResult& r) {
        std::string parentId;
        for (const auto& l : r.layers) {
            const auto& d = l.descriptor;
            descriptors.try_emplace(d.digest, l);
            std::string id = d.digest.str() + parentId;
            if (!chainIndex.count(id)) {
                Layer layer;
                layer.blob = d.digest;
                layer.parent = parentId.empty() ? -1 : chainIndex.at(parentId);
                chainIndex.emplace(id, static_cast<int>(out.config.layers.size()));
                out.config.layers.push_back(std::move(layer));
            }
            parentId = std::move(id);
        }
        return parentId;
    };

    std::function<void(int)> marshalItem = [&](int id) {
        if (recordOf[static_cast<std::size_t>(id)] >= 0)
            return;
        const Item& item = items_[static_cast<std::size_t>(id)];
        Record rec;
        rec.digest = oci::Digest::parse(item.digest);
        rec.inputs.resize(item.parents.size());
        for (std::size_t i = 0; i < item.parents.size(); ++i)
            for (const auto& [src, sel] : item.parents[i]) {
                marshalItem(src);
                rec.inputs[i].push_back(Input{sel, recordOf[static_cast<std::size_t>(src)]});
            }
        // The best result: newest createdAt among the usable ones (first on ties).
        const ExportResult* best = nullptr;
        for (const auto& r : item.results) {
            std::string why;
            if (!usable(r, why)) {
                out.warnings.push_back("record " + item.digest + ": result left out: " + why);
                continue;
            }
            if (!best || r.createdAt.nanos > best->createdAt.nanos)
                best = &r;
        }
        if (best) {
            const std::string top = marshalLayers(*best);
            if (!top.empty())
                rec.results.push_back(Result{chainIndex.at(top), best->createdAt});
        }
        recordOf[static_cast<std::size_t>(id)] = static_cast<int>(out.config.records.size());
        out.config.records.push_back(std::move(rec));
    };

    for (std::size_t id = 0; id < items_.size(); ++id)
        if (items_[id].children.empty())
            marshalItem(static_cast<int>(id));

    sortConfig(out.config);
    for (const auto& layer : out.config.layers)
        out.layers.push_back(descriptors.at(layer.blob));
    return out;
}

MarshaledCache marshalExportGraph(const ExportGraph& graph)
{
    const std::size_t n = graph.records.size();
    std::vector<int> itemOf(n, -1);
    std::vector<std::uint8_t> state(n, 0); // 0 new, 1 in progress, 2 done
    CacheChains chains;
    std::function<void(std::size_t)> visit = [&](std::size_t r) {
        if (state[r] == 2)
            return;
        if (state[r] == 1)
            throw Error("cache export: record " + std::to_string(r) + " (" + graph.records[r].digest +
                        ") links to itself through its inputs");
        state[r] = 1;
        const ExportRecord& rec = graph.records[r];
        std::vector<std::vector<CacheChains::Dep>> deps(rec.inputs.size());
        for (std::size_t i = 0; i < rec.inputs.size(); ++i)
            for (const auto& link : rec.inputs[i]) {
                if (link.record < 0 || static_cast<std::size_t>(link.record) >= n)
                    throw Error("cache export: record " + std::to_string(r) + " (" + rec.digest + ") input " +
                                std::to_string(i) + " links to record " + std::to_string(link.record) +
                                ", which does not exist");
                visit(static_cast<std::size_t>(link.record));
                const int parent = itemOf[static_cast<std::size_t>(link.record)];
                if (parent >= 0)
                    deps[i].emplace_back(parent, link.selector);
            }
        if (rec.digest.rfind("random:", 0) != 0 && !oci::Digest::tryParse(rec.digest))
            throw Error("cache export: record " + std::to_string(r) + " has an invalid digest \"" + rec.digest + "\"");
        itemOf[r] = chains.add(rec.digest, std::move(deps), rec.results);
        state[r] = 2;
    };
    for (std::size_t r = 0; r < n; ++r)
        visit(r);
    return chains.marshal();
}

} // namespace cachescope::cache
