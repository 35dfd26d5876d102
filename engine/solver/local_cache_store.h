#pragma once
// The daemon-local cache store as the matcher sees it. Real builds fill it (records of earlier builds
// on this machine); until then it is empty. Its records lose createdAt ties to imported ones (§7.5).
#include "cache/key_graph.h"

namespace cachescope::solver {

class LocalCacheStore {
public:
    virtual ~LocalCacheStore() = default;
    // The local key graph; nullptr when the store holds nothing.
    virtual const cache::KeyGraph* graph() const = 0;
};

class EmptyLocalCacheStore final : public LocalCacheStore {
public:
    const cache::KeyGraph* graph() const override { return nullptr; }
};

} // namespace cachescope::solver
