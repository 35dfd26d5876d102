#pragma once
// What a forked child does before it execs the sandbox: enter a mount namespace (and, for an
// ordinary user, a user namespace mapping it to root), mount the overlays, hand the merged
// trees to bubblewrap as open descriptors. Everything is prepared before fork(): the child only
// makes system calls, because the engine is multithreaded.
#include <string>
#include <vector>

namespace cachescope::exec {

struct NamespacePlan {
    bool newUserNamespace = false; // for an ordinary user: uid/gid 0 inside = ours outside
    std::string uidMap;            // "0 1000 1"
    std::string gidMap;
    struct Overlay {
        std::string target;  // mount point (an existing empty directory)
        std::string options; // lowerdir=…,upperdir=…,workdir=…[,userxattr]
        int placeholderFd = -1; // an fd number reserved by the parent; the merged tree lands on it
    };
    std::vector<Overlay> overlays;

    bool needsMountNamespace() const { return newUserNamespace || !overlays.empty(); }
};

// In the child after fork(): returns false after writing "cachescope: <step>: <errno text>" to errFd.
bool enterNamespaces(const NamespacePlan& plan, int errFd) noexcept;

// Writes a C string and an errno's text to fd with write(2) only (async-signal-safe).
void writeChildError(int fd, const char* what, int err) noexcept;

} // namespace cachescope::exec
