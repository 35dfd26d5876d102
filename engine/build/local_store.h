#pragma once
// The daemon-local cache of CacheScope's builds, persisted in the data dir:
//   <data>/local-cache/config.json   keys, links and results as a BuildKit cache config v0
//   <data>/local-cache/layers.json   the descriptor (media type, size, diffID) of every layer
//   <data>/blobs/sha256/…            the layer blobs (the shared content store)
// Writes are atomic (temp + rename); a lock file serialises builds that use the store.
#include "cache/cache_config.h"
#include "cache/key_graph.h"
#include "oci/content_store.h"
#include "solver/local_cache_store.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::build {

class LocalStore final : public solver::LocalCacheStore {
public:
    // Loads the store under `dataDir` (empty when nothing is there yet). A damaged config is set
    // aside (renamed *.damaged) and the store starts empty: a cache must never stop a build.
    explicit LocalStore(std::filesystem::path dataDir);

    const cache::KeyGraph* graph() const override { return graph_ ? &*graph_ : nullptr; }
    const std::filesystem::path& dataDir() const { return dataDir_; }
    oci::ContentStore& content() { return content_; }
    // A note when the store could not be read and was set aside.
    const std::string& warning() const { return warning_; }

    struct Link {
        int record = -1;      // from addRecord
        std::string selector; // digest text or empty
    };
    // Adds (or finds) a record: `inputs` holds per op input the alternative links. Returns its index.
    int addRecord(const oci::Digest& digest, const std::vector<std::vector<Link>>& inputs);
    // Adds a result (layers bottom first, every blob in the content store) to a record.
    void addResult(int record, const std::vector<oci::Descriptor>& layers);
    // Writes config.json and layers.json atomically (no-op when nothing was added).
    void save();

private:
    void rebuildGraph();

    std::filesystem::path dataDir_;
    std::filesystem::path dir_;
    oci::ContentStore content_;
    cache::CacheConfig config_;
    std::map<oci::Digest, oci::Descriptor> descriptors_;
    std::map<std::string, int> recordIndex_;
    std::map<std::pair<std::string, int>, int> layerIndex_; // (blob, parent) -> config layer
    std::optional<cache::KeyGraph> graph_;
    std::string warning_;
    bool dirty_ = false;
};

} // namespace cachescope::build
