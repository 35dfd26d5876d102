#pragma once
// The imported cache as the solver queries it (spec §1.5): items (a record digest plus the parent
// links it was reached from), outgoing links keyed by (input index, child digest, selector), and
// results with their layer chains. Items merge as BuildKit's CacheChains.Add does (§1.3): roots
// are unique per digest, and a record with the same digest reachable from the same parents on
// every input is one item.
//
// Built for size: ids are ints into flat vectors, digests and selectors are interned, and a
// `layers` result is stored as its top layer (the chain is walked on demand), so a 20,000-record
// config takes a few MB.
#include "cache/cache_config.h"
#include "cache/flat_hash_index.h"
#include "cache/source_problem.h"
#include "oci/descriptor.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::cache {

using ItemId = std::int32_t;
using SelectorId = std::int32_t; // 0 is the empty selector
using LayerSlot = std::int32_t;  // one per distinct layer blob used by a result

struct KeyLink {
    ItemId parent = -1;
    SelectorId selector = 0;
    bool operator==(const KeyLink&) const = default;
};

struct ResultChain {
    // A `layers` result: its top layer (an index into the config's layers), chain walked via parents.
    std::int32_t topLayer = -1;
    // A `chains` result: a range of the graph's explicit chain pool.
    std::int32_t chainOffset = 0;
    std::int32_t chainLength = 0;
    std::int32_t recordIndex = -1; // the record that contributed it
    Timestamp createdAt;
};

struct KeyItem {
    std::int32_t digestId = -1;
    std::int32_t recordIndex = -1; // the first record that produced this item
    std::vector<std::vector<KeyLink>> parents; // per input index, the alternative parents
    std::vector<ResultChain> results;
};

class KeyGraph {
public:
    enum LayerFlag : std::uint8_t { BlobMissing = 1, NoUncompressed = 2 };

    // Builds the graph of `config`. `listed` maps the blobs the source lists (manifest/index
    // layers) to their descriptors; results using any other blob are dropped and reported in
    // `problems` (kind blob-not-listed). Throws Error("<what>: <cause>") for structural errors:
    // invalid looping record N, invalid record ID N, invalid empty input for record N,
    // invalid looping layer N, invalid layer index N.
    static KeyGraph build(const CacheConfig& config, const std::map<oci::Digest, oci::Descriptor>& listed,
                          const std::string& what, std::vector<SourceProblem>* problems = nullptr);

    std::size_t itemCount() const { return items_.size(); }
    std::size_t rootCount() const { return rootItems_.size(); }
    std::size_t resultCount() const { return resultCount_; }
    std::size_t linkCount() const { return linkNodes_.size(); }
    std::size_t layerCount() const { return slots_.size(); }

    const KeyItem& item(ItemId id) const { return items_[static_cast<std::size_t>(id)]; }
    const oci::Digest& digest(ItemId id) const { return digests_[static_cast<std::size_t>(item(id).digestId)]; }
    const std::string& selector(SelectorId id) const { return selectors_[static_cast<std::size_t>(id)]; }
    // The item each config record became (records that merged share one).
    ItemId itemOfRecord(int recordIndex) const { return recordItems_[static_cast<std::size_t>(recordIndex)]; }

    // Root items with this digest (at most one: roots are unique per digest).
    std::vector<ItemId> roots(const oci::Digest& digest) const;
    const std::vector<ItemId>& rootItems() const { return rootItems_; }
    // Items reached from `parent` through input `inputIndex` whose digest is `child`, with `selector`.
    std::vector<ItemId> children(ItemId parent, int inputIndex, const oci::Digest& child,
                                 std::string_view selector) const;
    // The result with the newest createdAt (first on ties); nullptr when the item has none.
    const ResultChain* bestResult(ItemId id) const;
    // The same, among results whose blobs are all present with a diffID (see markLayer).
    const ResultChain* bestUsableResult(ItemId id) const;

    // The layers of a result, bottom first.
    std::vector<LayerSlot> chainSlots(const ResultChain& r) const;
    std::vector<oci::Descriptor> chainLayers(const ResultChain& r) const;
    const oci::Descriptor& layer(LayerSlot slot) const { return slots_[static_cast<std::size_t>(slot)]; }

    // Preflight findings about a layer blob; results using flagged layers are not usable.
    void markLayer(LayerSlot slot, std::uint8_t flags) { slotFlags_[static_cast<std::size_t>(slot)] |= flags; }
    std::uint8_t layerFlags(LayerSlot slot) const { return slotFlags_[static_cast<std::size_t>(slot)]; }
    bool resultUsable(const ResultChain& r) const;

private:
    struct LinkKey {
        ItemId parent;
        std::int32_t input;
        std::int32_t digestId;
        SelectorId selector;
        bool operator==(const LinkKey&) const = default;
        std::uint64_t hash() const;
    };
    struct LinkHead {
        LinkKey key{};
        std::int32_t head = -1; // first node of the child list
    };
    struct LinkNode {
        ItemId child;
        std::int32_t next;
    };
    struct LayerNode {
        std::int32_t parent = -1; // config index of the layer below, -1 for none
        LayerSlot slot = -1;      // -1 while the blob is not listed
    };

    class Builder;

    std::int32_t findDigest(const oci::Digest& d) const;
    SelectorId findSelector(std::string_view s) const;
    const LinkHead* findLink(const LinkKey& key) const;
    void addLink(const LinkKey& key, ItemId child);

    std::vector<KeyItem> items_;
    std::vector<ItemId> recordItems_;
    std::vector<ItemId> rootItems_;
    std::vector<ItemId> rootByDigest_; // digest id -> root item or -1
    std::vector<oci::Digest> digests_;
    FlatHashIndex<std::int32_t> digestIndex_; // -> index into digests_
    std::vector<std::string> selectors_{std::string()};
    FlatHashIndex<SelectorId> selectorIndex_;
    FlatHashIndex<LinkHead> links_;
    std::vector<LinkNode> linkNodes_;
    std::vector<LayerNode> layerNodes_;  // per config layer
    std::vector<LayerSlot> chainPool_;   // explicit chains
    std::vector<oci::Descriptor> slots_; // per distinct blob
    std::vector<std::uint8_t> slotFlags_;
    std::size_t resultCount_ = 0;
};

} // namespace cachescope::cache
