#include "exec/cache_mount_store.h"

#include "base/error.h"
#include "oci/digest.h"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

CacheMountLease::~CacheMountLease()
{
    if (removeOnRelease_ && !dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

CacheMountLease CacheMountStore::acquire(const std::string& id, CacheSharing sharing, Owner owner, mode_t mode)
{
    // Ids are often paths ("/root/.cache/go-build"): a hash makes a safe directory name.
    const fs::path base = root_ / oci::Digest::of(id).hex().substr(0, 32);
    std::error_code ec;
    fs::create_directories(base, ec);
    if (ec)
        throw Error("cache mount \"" + id + "\": " + base.string() + ": " + ec.message());
    CacheMountLease lease;
    lease.lock_.reset(::open((base / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lease.lock_.valid())
        throw Error("cache mount \"" + id + "\": " + errnoMessage((base / "lock").string()));
    lease.dir_ = base / "data";
    int how = sharing == CacheSharing::Shared ? LOCK_SH : LOCK_EX;
    if (sharing == CacheSharing::Private)
        how |= LOCK_NB;
    while (::flock(lease.lock_.get(), how) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK && sharing == CacheSharing::Private) {
            static std::atomic<unsigned> counter{0};
            lease.lock_.reset();
            lease.dir_ = base / ("private-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
            lease.removeOnRelease_ = true;
            break;
        }
        throw Error("cache mount \"" + id + "\": " + errnoMessage("lock"));
    }
    if (::mkdir(lease.dir_.c_str(), mode) == 0) {
        ::chmod(lease.dir_.c_str(), mode);
        ::chown(lease.dir_.c_str(), owner.uid, owner.gid); // needs privilege; best effort otherwise
    } else if (errno != EEXIST) {
        throw Error("cache mount \"" + id + "\": " + errnoMessage(lease.dir_.string()));
    }
    return lease;
}

} // namespace cachescope::exec
