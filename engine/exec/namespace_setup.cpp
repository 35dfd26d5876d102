#include "exec/namespace_setup.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace cachescope::exec {

namespace {

void writeAll(int fd, const char* s, std::size_t n) noexcept
{
    while (n > 0) {
        ssize_t w = ::write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= static_cast<std::size_t>(w);
    }
}

bool writeProcFile(const char* path, const std::string& data) noexcept
{
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ::close(fd);
    return ok;
}

} // namespace

void writeChildError(int fd, const char* what, int err) noexcept
{
    static const char prefix[] = "cachescope sandbox setup: ";
    writeAll(fd, prefix, sizeof prefix - 1);
    writeAll(fd, what, std::strlen(what));
    writeAll(fd, ": ", 2);
    // strerrordesc_np is a table lookup, safe after fork
    const char* text = ::strerrordesc_np(err);
    if (text)
        writeAll(fd, text, std::strlen(text));
    writeAll(fd, "\n", 1);
}

bool enterNamespaces(const NamespacePlan& plan, int errFd) noexcept
{
    if (!plan.needsMountNamespace())
        return true;
    int flags = CLONE_NEWNS | (plan.newUserNamespace ? CLONE_NEWUSER : 0);
    if (::unshare(flags) != 0) {
        writeChildError(errFd, plan.newUserNamespace ? "unshare(user, mount)" : "unshare(mount)", errno);
        return false;
    }
    if (plan.newUserNamespace) {
        static const std::string deny = "deny";
        if (!writeProcFile("/proc/self/setgroups", deny) || !writeProcFile("/proc/self/uid_map", plan.uidMap) ||
            !writeProcFile("/proc/self/gid_map", plan.gidMap)) {
            writeChildError(errFd, "writing the user namespace id maps", errno);
            return false;
        }
    }
    // Nothing mounted here may reach the engine's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        writeChildError(errFd, "making mounts private", errno);
        return false;
    }
    for (const auto& o : plan.overlays) {
        if (::mount("overlay", o.target.c_str(), "overlay", 0, o.options.c_str()) != 0) {
            writeChildError(errFd, "mounting overlay", errno);
            return false;
        }
        if (o.placeholderFd >= 0) {
            int fd = ::open(o.target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0 || ::dup2(fd, o.placeholderFd) < 0) {
                writeChildError(errFd, "opening the merged tree", errno);
                return false;
            }
            ::close(fd);
        }
    }
    return true;
}

} // namespace cachescope::exec
