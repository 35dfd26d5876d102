#include "cache/preflight.h"

#include "oci/media_types.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace cachescope::cache {

namespace {

struct Check {
    const oci::Descriptor* desc;
    bool exists = true;
    std::string error;
};

void checkAll(BlobProvider& provider, std::vector<Check>& checks)
{
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t i = next++; i < checks.size(); i = next++) {
            try {
                checks[i].exists = provider.blobExists(*checks[i].desc);
            } catch (const std::exception& e) {
                checks[i].error = e.what();
            }
        }
    };
    // A HEAD costs a round trip: overlap them. A stat is cheap, but threads do not hurt.
    const std::size_t threads = std::min<std::size_t>(8, (checks.size() + 7) / 8);
    if (threads <= 1) {
        worker();
        return;
    }
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t)
        pool.emplace_back(worker);
    for (auto& t : pool)
        t.join();
}

std::string recordList(const std::set<int>& records)
{
    std::string s;
    int shown = 0;
    for (int r : records) {
        if (shown == 8) {
            s += ", …";
            break;
        }
        s += (shown ? ", " : "") + std::to_string(r);
        ++shown;
    }
    return s;
}

} // namespace

void preflightCache(BlobProvider& provider, ImportedCache& cache)
{
    std::map<oci::Digest, const oci::Descriptor*> distinct;
    for (const auto& g : cache.graphs)
        for (const auto& [digest, desc] : g.layerDescriptors)
            distinct.emplace(digest, &desc);

    std::vector<Check> checks;
    checks.reserve(distinct.size());
    cache.blobBytes = 0;
    for (const auto& [digest, desc] : distinct) {
        checks.push_back(Check{desc, true, {}});
        cache.blobBytes += desc->size;
    }
    checkAll(provider, checks);

    std::set<oci::Digest> missing;
    for (const auto& c : checks) {
        if (!c.error.empty())
            cache.problems.push_back({"blob-check-failed", "could not check blob " + c.desc->digest.str() + ": " + c.error});
        else if (!c.exists)
            missing.insert(c.desc->digest);
    }
    cache.missingBlobs = missing.size();

    // Flag layers, then name the records whose results each flagged layer breaks.
    std::map<oci::Digest, std::set<int>> missingUsers;
    std::map<oci::Digest, std::set<int>> noDiffIdUsers;
    for (auto& g : cache.graphs) {
        bool anyFlag = false;
        for (LayerSlot s = 0; s < static_cast<LayerSlot>(g.graph.layerCount()); ++s) {
            const oci::Descriptor& d = g.graph.layer(s);
            std::uint8_t flags = 0;
            if (missing.count(d.digest))
                flags |= KeyGraph::BlobMissing;
            if (d.annotation(oci::media::AnnotationUncompressed).empty())
                flags |= KeyGraph::NoUncompressed;
            if (flags) {
                g.graph.markLayer(s, flags);
                anyFlag = true;
            }
        }
        if (!anyFlag)
            continue;
        for (ItemId id = 0; id < static_cast<ItemId>(g.graph.itemCount()); ++id)
            for (const auto& r : g.graph.item(id).results)
                for (LayerSlot s : g.graph.chainSlots(r)) {
                    const auto flags = g.graph.layerFlags(s);
                    if (flags & KeyGraph::BlobMissing)
                        missingUsers[g.graph.layer(s).digest].insert(r.recordIndex);
                    if (flags & KeyGraph::NoUncompressed)
                        noDiffIdUsers[g.graph.layer(s).digest].insert(r.recordIndex);
                }
    }

    for (const auto& digest : missing) {
        const auto& users = missingUsers[digest];
        std::string message = "blob " + digest.str() + " (" + std::to_string(distinct[digest]->size) +
                              " bytes) is listed but missing";
        if (users.empty())
            message += "; no result uses it";
        else
            message += "; " + std::to_string(users.size()) + " record(s) lose their result: " + recordList(users);
        cache.problems.push_back({"missing-blob", message});
    }
    for (const auto& [digest, users] : noDiffIdUsers)
        cache.problems.push_back(
            {"missing-uncompressed", "layer " + digest.str() + " has no " +
                                         std::string(oci::media::AnnotationUncompressed) + " annotation; " +
                                         std::to_string(users.size()) +
                                         " record(s) have a result BuildKit cannot load: " + recordList(users)});
}

} // namespace cachescope::cache
