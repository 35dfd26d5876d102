#pragma once
// BuildKit's CacheChains (cache/remotecache/v1/chains.go, spec §1.3): the exporter's merge of
// cache keys into items, and Marshal into a sorted cache config.
//
// add() merges as BuildKit does: roots are unique per digest; a record with inputs becomes the
// existing item with the same digest that is reachable from at least one listed parent on every
// input (the intersection), otherwise a new item. Results of merged records accumulate.
//
// marshal() walks from the leaves; each item becomes one record with its best result: the newest
// createdAt among results whose blobs are all available and carry a diffID. A result's layers
// become (blob, parent chain) entries, deduplicated. The empty gzip layer stays: BuildKit v0.24
// exports it (the fixtures list sha256:4f4fb700…).
// Then sortConfig (sort_config.h) makes the bytes deterministic.
#include "cache/cache_config.h"
#include "cache/export_graph.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cachescope::cache {

// A marshalled cache: the config and, per config layer, the descriptor and where its blob is.
struct MarshaledCache {
    CacheConfig config;
    std::vector<ExportLayer> layers; // layers[i] describes config.layers[i]
    std::vector<std::string> warnings; // results left out, and why
};

class CacheChains {
public:
    using Dep = std::pair<int, std::string>; // (item, selector)

    // Returns the item the key became, or -1 when it is not exported (random: digest, or an input
    // without parents).
    int add(const std::string& digest, std::vector<std::vector<Dep>> deps, const std::vector<ExportResult>& results);

    std::size_t itemCount() const { return items_.size(); }
    MarshaledCache marshal() const;

private:
    struct ChildKey {
        std::string selector;
        int input = 0;
        std::string digest;
        auto operator<=>(const ChildKey&) const = default;
    };
    struct Item {
        std::string digest;
        std::vector<std::set<Dep>> parents; // per input index
        std::map<ChildKey, std::set<int>> children;
        std::vector<ExportResult> results;
    };

    void addResult(Item& item, const ExportResult& result);
    void collectDescendants(int item, std::set<int>& out) const;

    std::vector<Item> items_;
    std::map<std::string, int> roots_;
};

// Runs a whole export graph through CacheChains in dependency order (records before the
// records that link to them) and marshals it. Throws Error for a link out of range or a loop.
MarshaledCache marshalExportGraph(const ExportGraph& graph);

} // namespace cachescope::cache
