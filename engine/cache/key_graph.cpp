#include "cache/key_graph.h"

#include "base/error.h"

#include <algorithm>

namespace cachescope::cache {

namespace {

std::string recordName(int index, const Record& r)
{
    return "record " + std::to_string(index) + (r.digest.empty() ? "" : " (" + r.digest.str() + ")");
}

} // namespace

std::uint64_t KeyGraph::LinkKey::hash() const
{
    const std::uint64_t a = (std::uint64_t(std::uint32_t(parent)) << 32) | std::uint32_t(digestId);
    const std::uint64_t b = (std::uint64_t(std::uint32_t(input)) << 32) | std::uint32_t(selector);
    return mixHash(a ^ mixHash(b));
}

std::int32_t KeyGraph::findDigest(const oci::Digest& d) const
{
    const auto* id = digestIndex_.find(hashBytes(d.str()), [&](std::int32_t i) { return digests_[static_cast<std::size_t>(i)] == d; });
    return id ? *id : -1;
}

SelectorId KeyGraph::findSelector(std::string_view s) const
{
    if (s.empty())
        return 0;
    const auto* id = selectorIndex_.find(hashBytes(s), [&](SelectorId i) { return selectors_[static_cast<std::size_t>(i)] == s; });
    return id ? *id : -1;
}

const KeyGraph::LinkHead* KeyGraph::findLink(const LinkKey& key) const
{
    return links_.find(key.hash(), [&](const LinkHead& h) { return h.key == key; });
}

void KeyGraph::addLink(const LinkKey& key, ItemId child)
{
    auto [head, inserted] = links_.findOrInsert(key.hash(), [&](const LinkHead& h) { return h.key == key; }, LinkHead{key, -1});
    for (std::int32_t n = head->head; n >= 0; n = linkNodes_[static_cast<std::size_t>(n)].next)
        if (linkNodes_[static_cast<std::size_t>(n)].child == child)
            return;
    linkNodes_.push_back(LinkNode{child, head->head});
    head->head = static_cast<std::int32_t>(linkNodes_.size() - 1);
}

// Walks the records depth first (iteratively: real chains can be thousands deep) and adds
// each one after its parents, as BuildKit's parseRecord does.
class KeyGraph::Builder {
public:
    Builder(const CacheConfig& config, const std::map<oci::Digest, oci::Descriptor>& listed, const std::string& what,
            std::vector<SourceProblem>* problems)
        : config_(config), listed_(listed), what_(what), problems_(problems)
    {
    }

    KeyGraph run()
    {
        const std::size_t n = config_.records.size();
        const std::size_t layerCount = config_.layers.size();
        g_.items_.reserve(n);
        g_.recordItems_.assign(n, -1);
        g_.digests_.reserve(n);
        g_.digestIndex_.reserve(n);
        g_.links_.reserve(n + n / 2);
        g_.linkNodes_.reserve(n + n / 2);
        g_.layerNodes_.assign(layerCount, LayerNode{});
        recordState_.assign(n, 0);
        layerState_.assign(layerCount, 0);
        unlistedIn_.assign(layerCount, -1);

        struct Frame {
            std::int32_t record;
            std::uint32_t input;
            std::uint32_t alt;
        };
        std::vector<Frame> stack;
        for (std::size_t start = 0; start < n; ++start) {
            if (recordState_[start] != 0)
                continue;
            enter(static_cast<int>(start));
            stack.push_back({static_cast<std::int32_t>(start), 0, 0});
            while (!stack.empty()) {
                Frame& f = stack.back();
                const Record& rec = config_.records[static_cast<std::size_t>(f.record)];
                bool descended = false;
                while (f.input < rec.inputs.size()) {
                    const auto& alternatives = rec.inputs[f.input];
                    if (f.alt >= alternatives.size()) {
                        ++f.input;
                        f.alt = 0;
                        continue;
                    }
                    const int link = alternatives[f.alt].link;
                    if (link < 0 || static_cast<std::size_t>(link) >= n)
                        fail("invalid record ID " + std::to_string(link) + " (" + recordName(f.record, rec) +
                             ", input " + std::to_string(f.input) + ")");
                    if (recordState_[static_cast<std::size_t>(link)] == 1)
                        fail("invalid looping record " + std::to_string(link) + " (reached again from " +
                             recordName(f.record, rec) + ")");
                    ++f.alt;
                    if (recordState_[static_cast<std::size_t>(link)] == 0) {
                        enter(link);
                        stack.push_back({link, 0, 0}); // invalidates f
                        descended = true;
                        break;
                    }
                }
                if (descended)
                    continue;
                const std::int32_t done = stack.back().record;
                stack.pop_back();
                finish(done);
            }
        }
        for (const auto& item : g_.items_)
            g_.resultCount_ += item.results.size();
        g_.slotFlags_.assign(g_.slots_.size(), 0);
        return std::move(g_);
    }

private:
    [[noreturn]] void fail(const std::string& message) const { throw Error(what_ + ": " + message); }

    void enter(int index)
    {
        recordState_[static_cast<std::size_t>(index)] = 1;
        const Record& rec = config_.records[static_cast<std::size_t>(index)];
        for (std::size_t i = 0; i < rec.inputs.size(); ++i)
            if (rec.inputs[i].empty())
                fail("invalid empty input for record " + std::to_string(index) + " (input " + std::to_string(i) + ")");
    }

    std::int32_t internDigest(const oci::Digest& d)
    {
        const auto next = static_cast<std::int32_t>(g_.digests_.size());
        auto [id, inserted] = g_.digestIndex_.findOrInsert(
            hashBytes(d.str()), [&](std::int32_t i) { return g_.digests_[static_cast<std::size_t>(i)] == d; }, next);
        if (inserted) {
            g_.digests_.push_back(d);
            g_.rootByDigest_.push_back(-1);
        }
        return *id;
    }

    SelectorId internSelector(const std::string& s)
    {
        if (s.empty())
            return 0;
        const auto next = static_cast<SelectorId>(g_.selectors_.size());
        auto [id, inserted] = g_.selectorIndex_.findOrInsert(
            hashBytes(s), [&](SelectorId i) { return g_.selectors_[static_cast<std::size_t>(i)] == s; }, next);
        if (inserted)
            g_.selectors_.push_back(s);
        return *id;
    }

    LayerSlot slotFor(const oci::Digest& blob)
    {
        auto found = slotOf_.find(blob);
        if (found != slotOf_.end())
            return found->second;
        auto listed = listed_.find(blob);
        LayerSlot slot = -1;
        if (listed != listed_.end()) {
            slot = static_cast<LayerSlot>(g_.slots_.size());
            g_.slots_.push_back(listed->second);
        }
        slotOf_.emplace(blob, slot);
        return slot;
    }

    // Validates the chain below config layer `top` (memoised) and resolves its blobs.
    void ensureChain(int top, int recordIndex)
    {
        const int count = static_cast<int>(config_.layers.size());
        if (top < 0 || top >= count)
            fail("invalid layer index " + std::to_string(top) + " (result of " +
                 recordName(recordIndex, config_.records[static_cast<std::size_t>(recordIndex)]) + ")");
        path_.clear();
        int i = top;
        while (true) {
            if (layerState_[static_cast<std::size_t>(i)] == 2)
                break;
            if (layerState_[static_cast<std::size_t>(i)] == 1)
                fail("invalid looping layer " + std::to_string(i) + " (in the chain of record " +
                     std::to_string(recordIndex) + ")");
            layerState_[static_cast<std::size_t>(i)] = 1;
            path_.push_back(i);
            const int parent = config_.layers[static_cast<std::size_t>(i)].parent;
            if (parent == -1)
                break;
            if (parent < 0 || parent >= count)
                fail("invalid layer index " + std::to_string(parent) + " (parent of layer " + std::to_string(i) +
                     ", in the chain of record " + std::to_string(recordIndex) + ")");
            i = parent;
        }
        for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
            const auto idx = static_cast<std::size_t>(*it);
            const Layer& l = config_.layers[idx];
            LayerNode& node = g_.layerNodes_[idx];
            node.parent = l.parent;
            node.slot = slotFor(l.blob);
            unlistedIn_[idx] = node.slot < 0 ? *it : (l.parent == -1 ? -1 : unlistedIn_[static_cast<std::size_t>(l.parent)]);
            layerState_[idx] = 2;
        }
    }

    void dropped(int recordIndex, const oci::Digest& blob)
    {
        if (!problems_)
            return;
        problems_->push_back(
            {"blob-not-listed", "result of " + recordName(recordIndex, config_.records[static_cast<std::size_t>(recordIndex)]) +
                                    " dropped: blob " + blob.str() + " is not listed by the manifest"});
    }

    void finish(int index)
    {
        const Record& rec = config_.records[static_cast<std::size_t>(index)];
        recordState_[static_cast<std::size_t>(index)] = 2;
        if (rec.digest.empty())
            fail("invalid record " + std::to_string(index) + ": no digest");
        const std::int32_t digestId = internDigest(rec.digest);

        std::vector<std::vector<KeyLink>> parents(rec.inputs.size());
        for (std::size_t i = 0; i < rec.inputs.size(); ++i) {
            auto& alts = parents[i];
            alts.reserve(rec.inputs[i].size());
            for (const Input& in : rec.inputs[i]) {
                KeyLink l{g_.recordItems_[static_cast<std::size_t>(in.link)], internSelector(in.selector)};
                if (std::find(alts.begin(), alts.end(), l) == alts.end())
                    alts.push_back(l);
            }
        }

        std::vector<ResultChain> results;
        results.reserve(rec.results.size() + rec.chains.size());
        for (const Result& r : rec.results) {
            ensureChain(r.layer, index);
            const int unlisted = unlistedIn_[static_cast<std::size_t>(r.layer)];
            if (unlisted >= 0) {
                dropped(index, config_.layers[static_cast<std::size_t>(unlisted)].blob);
                continue;
            }
            ResultChain rc;
            rc.topLayer = r.layer;
            rc.recordIndex = index;
            rc.createdAt = r.createdAt;
            results.push_back(std::move(rc));
        }
        for (const Chain& ch : rec.chains) {
            const auto offset = static_cast<std::int32_t>(g_.chainPool_.size());
            bool keep = true;
            for (int idx : ch.layers) {
                if (idx < 0 || static_cast<std::size_t>(idx) >= config_.layers.size())
                    fail("invalid layer index " + std::to_string(idx) + " (chain of " + recordName(index, rec) + ")");
                const LayerSlot slot = slotFor(config_.layers[static_cast<std::size_t>(idx)].blob);
                if (slot < 0) {
                    dropped(index, config_.layers[static_cast<std::size_t>(idx)].blob);
                    keep = false;
                    break;
                }
                g_.chainPool_.push_back(slot);
            }
            if (!keep) {
                g_.chainPool_.resize(static_cast<std::size_t>(offset));
                continue;
            }
            ResultChain rc;
            rc.chainOffset = offset;
            rc.chainLength = static_cast<std::int32_t>(g_.chainPool_.size()) - offset;
            rc.recordIndex = index;
            rc.createdAt = ch.createdAt;
            results.push_back(std::move(rc));
        }

        g_.recordItems_[static_cast<std::size_t>(index)] = add(digestId, index, std::move(parents), std::move(results));
    }

    bool sameChain(const ResultChain& a, const ResultChain& b) const
    {
        if (a.topLayer >= 0 || b.topLayer >= 0)
            return a.topLayer == b.topLayer;
        return std::equal(g_.chainPool_.begin() + a.chainOffset, g_.chainPool_.begin() + a.chainOffset + a.chainLength,
                          g_.chainPool_.begin() + b.chainOffset, g_.chainPool_.begin() + b.chainOffset + b.chainLength);
    }

    void mergeResults(KeyItem& item, std::vector<ResultChain>&& results)
    {
        for (auto& r : results) {
            bool duplicate = false;
            for (const auto& existing : item.results)
                if (sameChain(existing, r)) {
                    duplicate = true;
                    break;
                }
            if (!duplicate)
                item.results.push_back(std::move(r));
        }
    }

    ItemId newItem(std::int32_t digestId, int recordIndex, std::vector<std::vector<KeyLink>>&& parents,
                   std::vector<ResultChain>&& results)
    {
        const auto id = static_cast<ItemId>(g_.items_.size());
        KeyItem& item = g_.items_.emplace_back();
        item.digestId = digestId;
        item.recordIndex = recordIndex;
        item.parents = std::move(parents);
        item.results = std::move(results);
        for (std::size_t i = 0; i < item.parents.size(); ++i)
            for (const KeyLink& l : item.parents[i])
                g_.addLink({l.parent, static_cast<std::int32_t>(i), digestId, l.selector}, id);
        return id;
    }

    // CacheChains.Add: roots unique per digest; otherwise reuse an item with this digest that is
    // already a child of some listed parent on every input.
    ItemId add(std::int32_t digestId, int recordIndex, std::vector<std::vector<KeyLink>>&& parents,
               std::vector<ResultChain>&& results)
    {
        if (parents.empty()) {
            ItemId& root = g_.rootByDigest_[static_cast<std::size_t>(digestId)];
            if (root >= 0) {
                mergeResults(g_.items_[static_cast<std::size_t>(root)], std::move(results));
                return root;
            }
            const ItemId id = newItem(digestId, recordIndex, std::move(parents), std::move(results));
            g_.rootByDigest_[static_cast<std::size_t>(digestId)] = id;
            g_.rootItems_.push_back(id);
            return id;
        }
        candidates_.clear();
        for (std::size_t i = 0; i < parents.size(); ++i) {
            reached_.clear();
            for (const KeyLink& l : parents[i]) {
                const LinkHead* head = g_.findLink({l.parent, static_cast<std::int32_t>(i), digestId, l.selector});
                if (!head)
                    continue;
                for (std::int32_t n = head->head; n >= 0; n = g_.linkNodes_[static_cast<std::size_t>(n)].next)
                    reached_.push_back(g_.linkNodes_[static_cast<std::size_t>(n)].child);
            }
            std::sort(reached_.begin(), reached_.end());
            reached_.erase(std::unique(reached_.begin(), reached_.end()), reached_.end());
            if (i == 0) {
                candidates_.swap(reached_);
            } else {
                std::vector<ItemId> both;
                std::set_intersection(candidates_.begin(), candidates_.end(), reached_.begin(), reached_.end(),
                                      std::back_inserter(both));
                candidates_.swap(both);
            }
            if (candidates_.empty())
                break;
        }
        for (ItemId candidate : candidates_) {
            KeyItem& item = g_.items_[static_cast<std::size_t>(candidate)];
            if (item.parents.size() != parents.size())
                continue;
            for (std::size_t i = 0; i < parents.size(); ++i)
                for (const KeyLink& l : parents[i])
                    if (std::find(item.parents[i].begin(), item.parents[i].end(), l) == item.parents[i].end()) {
                        item.parents[i].push_back(l);
                        g_.addLink({l.parent, static_cast<std::int32_t>(i), digestId, l.selector}, candidate);
                    }
            mergeResults(item, std::move(results));
            return candidate;
        }
        return newItem(digestId, recordIndex, std::move(parents), std::move(results));
    }

    const CacheConfig& config_;
    const std::map<oci::Digest, oci::Descriptor>& listed_;
    const std::string& what_;
    std::vector<SourceProblem>* problems_;
    KeyGraph g_;
    std::vector<std::uint8_t> recordState_; // 0 new, 1 on the stack, 2 done
    std::vector<std::uint8_t> layerState_;
    std::vector<std::int32_t> unlistedIn_; // per layer: a layer of its chain whose blob is not listed, or -1
    std::unordered_map<oci::Digest, LayerSlot> slotOf_;
    std::vector<int> path_;
    std::vector<ItemId> candidates_;
    std::vector<ItemId> reached_;
};

KeyGraph KeyGraph::build(const CacheConfig& config, const std::map<oci::Digest, oci::Descriptor>& listed,
                         const std::string& what, std::vector<SourceProblem>* problems)
{
    return Builder(config, listed, what, problems).run();
}

std::vector<ItemId> KeyGraph::roots(const oci::Digest& d) const
{
    const std::int32_t id = findDigest(d);
    if (id < 0 || rootByDigest_[static_cast<std::size_t>(id)] < 0)
        return {};
    return {rootByDigest_[static_cast<std::size_t>(id)]};
}

std::vector<ItemId> KeyGraph::children(ItemId parent, int inputIndex, const oci::Digest& child,
                                       std::string_view selector) const
{
    std::vector<ItemId> out;
    const std::int32_t id = findDigest(child);
    const SelectorId sel = findSelector(selector);
    if (id < 0 || sel < 0)
        return out;
    const LinkHead* head = findLink({parent, inputIndex, id, sel});
    if (!head)
        return out;
    for (std::int32_t n = head->head; n >= 0; n = linkNodes_[static_cast<std::size_t>(n)].next)
        out.push_back(linkNodes_[static_cast<std::size_t>(n)].child);
    std::sort(out.begin(), out.end());
    return out;
}

const ResultChain* KeyGraph::bestResult(ItemId id) const
{
    const ResultChain* best = nullptr;
    for (const auto& r : item(id).results)
        if (!best || r.createdAt.nanos > best->createdAt.nanos)
            best = &r;
    return best;
}

const ResultChain* KeyGraph::bestUsableResult(ItemId id) const
{
    const ResultChain* best = nullptr;
    for (const auto& r : item(id).results)
        if (resultUsable(r) && (!best || r.createdAt.nanos > best->createdAt.nanos))
            best = &r;
    return best;
}

std::vector<LayerSlot> KeyGraph::chainSlots(const ResultChain& r) const
{
    std::vector<LayerSlot> out;
    if (r.topLayer >= 0) {
        for (std::int32_t i = r.topLayer; i != -1; i = layerNodes_[static_cast<std::size_t>(i)].parent)
            out.push_back(layerNodes_[static_cast<std::size_t>(i)].slot);
        std::reverse(out.begin(), out.end());
    } else {
        out.assign(chainPool_.begin() + r.chainOffset, chainPool_.begin() + r.chainOffset + r.chainLength);
    }
    return out;
}

std::vector<oci::Descriptor> KeyGraph::chainLayers(const ResultChain& r) const
{
    std::vector<oci::Descriptor> out;
    for (LayerSlot s : chainSlots(r))
        out.push_back(layer(s));
    return out;
}

bool KeyGraph::resultUsable(const ResultChain& r) const
{
    if (r.topLayer >= 0) {
        for (std::int32_t i = r.topLayer; i != -1; i = layerNodes_[static_cast<std::size_t>(i)].parent)
            if (slotFlags_[static_cast<std::size_t>(layerNodes_[static_cast<std::size_t>(i)].slot)] != 0)
                return false;
        return true;
    }
    for (std::int32_t k = 0; k < r.chainLength; ++k)
        if (slotFlags_[static_cast<std::size_t>(chainPool_[static_cast<std::size_t>(r.chainOffset + k)])] != 0)
            return false;
    return true;
}

} // namespace cachescope::cache
