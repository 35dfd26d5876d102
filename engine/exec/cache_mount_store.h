#pragma once
// Persistent directories behind RUN --mount=type=cache, keyed by id, in the local store
// (<data dir>/cache-mounts by default), with BuildKit's sharing modes.
#include "exec/owner.h"
#include "exec/unique_fd.h"

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace cachescope::exec {

enum class CacheSharing {
    Shared,  // concurrent runs use the same directory
    Private, // a run that finds it in use gets a fresh, throw-away directory
    Locked,  // concurrent runs wait for each other
};

// A cache directory held for one run; releases the lock (and a private extra) when destroyed.
class CacheMountLease {
public:
    CacheMountLease() = default;
    CacheMountLease(CacheMountLease&&) noexcept = default;
    CacheMountLease& operator=(CacheMountLease&&) noexcept = default;
    ~CacheMountLease();

    const std::filesystem::path& dir() const { return dir_; }

private:
    friend class CacheMountStore;
    std::filesystem::path dir_;
    UniqueFd lock_;
    bool removeOnRelease_ = false;
};

class CacheMountStore {
public:
    explicit CacheMountStore(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }

    // The directory for `id`, created (owner, mode) the first time.
    CacheMountLease acquire(const std::string& id, CacheSharing sharing, Owner owner = {}, mode_t mode = 0755);

private:
    std::filesystem::path root_;
};

} // namespace cachescope::exec
