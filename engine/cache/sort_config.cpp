#include "cache/sort_config.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace cachescope::cache {

std::vector<int> sortConfig(CacheConfig& config)
{
    const auto& oldLayers = config.layers;
    std::vector<int> layerOrder(oldLayers.size());
    std::iota(layerOrder.begin(), layerOrder.end(), 0);
    std::stable_sort(layerOrder.begin(), layerOrder.end(), [&](int a, int b) {
        const Layer& la = oldLayers[static_cast<std::size_t>(a)];
        const Layer& lb = oldLayers[static_cast<std::size_t>(b)];
        return std::tie(la.blob, la.parent) < std::tie(lb.blob, lb.parent);
    });
    std::vector<int> newLayer(oldLayers.size());
    for (std::size_t i = 0; i < layerOrder.size(); ++i)
        newLayer[static_cast<std::size_t>(layerOrder[i])] = static_cast<int>(i);
    std::vector<Layer> layers;
    layers.reserve(oldLayers.size());
    for (int old : layerOrder) {
        Layer l = oldLayers[static_cast<std::size_t>(old)];
        if (l.parent != -1)
            l.parent = newLayer[static_cast<std::size_t>(l.parent)];
        layers.push_back(std::move(l));
    }

    const auto& oldRecords = config.records;
    const auto linkedDigest = [&](const Input& in) -> const oci::Digest& {
        return oldRecords[static_cast<std::size_t>(in.link)].digest;
    };
    // BuildKit compares alternatives in their marshal order, which is Go map order (random);
    // a canonical (selector, linked digest) order keeps ours deterministic.
    std::vector<std::vector<std::vector<Input>>> canonical(oldRecords.size());
    for (std::size_t r = 0; r < oldRecords.size(); ++r) {
        canonical[r] = oldRecords[r].inputs;
        for (auto& alts : canonical[r])
            std::stable_sort(alts.begin(), alts.end(), [&](const Input& a, const Input& b) {
                if (a.selector != b.selector)
                    return a.selector < b.selector;
                return linkedDigest(a) < linkedDigest(b);
            });
    }
    std::vector<int> recordOrder(oldRecords.size());
    std::iota(recordOrder.begin(), recordOrder.end(), 0);
    std::stable_sort(recordOrder.begin(), recordOrder.end(), [&](int a, int b) {
        const Record& ra = oldRecords[static_cast<std::size_t>(a)];
        const Record& rb = oldRecords[static_cast<std::size_t>(b)];
        if (ra.digest != rb.digest)
            return ra.digest < rb.digest;
        const auto& ia = canonical[static_cast<std::size_t>(a)];
        const auto& ib = canonical[static_cast<std::size_t>(b)];
        if (ia.size() != ib.size())
            return ia.size() < ib.size();
        for (std::size_t i = 0; i < ia.size(); ++i) {
            if (ia[i].size() != ib[i].size())
                return ia[i].size() < ib[i].size();
            for (std::size_t j = 0; j < ia[i].size(); ++j) {
                if (ia[i][j].selector != ib[i][j].selector)
                    return ia[i][j].selector < ib[i][j].selector;
                const auto& da = linkedDigest(ia[i][j]);
                const auto& db = linkedDigest(ib[i][j]);
                if (da != db)
                    return da < db;
            }
        }
        return false;
    });
    std::vector<int> newRecord(oldRecords.size());
    for (std::size_t i = 0; i < recordOrder.size(); ++i)
        newRecord[static_cast<std::size_t>(recordOrder[i])] = static_cast<int>(i);
    std::vector<Record> records;
    records.reserve(oldRecords.size());
    for (int old : recordOrder) {
        Record r = oldRecords[static_cast<std::size_t>(old)];
        for (auto& res : r.results)
            res.layer = newLayer[static_cast<std::size_t>(res.layer)];
        for (auto& ch : r.chains)
            for (auto& l : ch.layers)
                l = newLayer[static_cast<std::size_t>(l)];
        for (auto& alts : r.inputs) {
            for (auto& in : alts)
                in.link = newRecord[static_cast<std::size_t>(in.link)];
            std::stable_sort(alts.begin(), alts.end(), [](const Input& a, const Input& b) { return a.link < b.link; });
        }
        records.push_back(std::move(r));
    }
    config.layers = std::move(layers);
    config.records = std::move(records);
    return newLayer;
}

} // namespace cachescope::cache
