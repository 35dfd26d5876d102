#include "exec/snapshot_mode.h"

#include "base/error.h"
#include "exec/namespace_setup.h"

#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace cachescope::exec {

namespace fs = std::filesystem;

std::string_view toString(SnapshotMode mode)
{
    switch (mode) {
    case SnapshotMode::Overlay:
        return "overlay";
    case SnapshotMode::OverlayInUserNamespace:
        return "overlay in user namespace";
    case SnapshotMode::Copy:
        return "copy";
    }
    return "?";
}

namespace {

std::string composeOverlayOptions(const std::vector<fs::path>& lowersTopFirst, const fs::path& upper,
                                  const fs::path& work, bool userNamespace)
{
    std::string options = "lowerdir=";
    for (std::size_t i = 0; i < lowersTopFirst.size(); ++i) {
        if (i)
            options += ':';
        options += lowersTopFirst[i].string();
    }
    options += ",upperdir=" + upper.string() + ",workdir=" + work.string();
    if (userNamespace)
        options += ",userxattr";
    return options;
}

} // namespace

bool overlayOptionsFit(const std::vector<fs::path>& lowersTopFirst, const fs::path& upper, const fs::path& work,
                       bool userNamespace)
{
    return composeOverlayOptions(lowersTopFirst, upper, work, userNamespace).size() <= kMaxMountOptions;
}

std::string overlayOptions(const std::vector<fs::path>& lowersTopFirst, const fs::path& upper, const fs::path& work,
                           bool userNamespace)
{
    std::string options = composeOverlayOptions(lowersTopFirst, upper, work, userNamespace);
    if (options.size() > kMaxMountOptions)
        throw Error("overlay: " + std::to_string(lowersTopFirst.size()) +
                    " lower layers make the mount options longer than the kernel accepts");
    return options;
}

namespace {

bool tryOverlay(const fs::path& scratch, bool userNamespace)
{
    fs::path base = scratch / ("overlay-probe-" + std::to_string(::getpid()) + (userNamespace ? "-u" : "-r"));
    std::error_code ec;
    for (const char* d : {"lower", "upper", "work", "merged"})
        fs::create_directories(base / d, ec);
    NamespacePlan plan;
    plan.newUserNamespace = userNamespace;
    plan.uidMap = "0 " + std::to_string(::geteuid()) + " 1";
    plan.gidMap = "0 " + std::to_string(::getegid()) + " 1";
    plan.overlays.push_back({(base / "merged").string(),
                             overlayOptions({base / "lower"}, base / "upper", base / "work", userNamespace), -1});
    std::string marker = (base / "merged" / "probe").string();
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t pid = ::fork();
    if (pid == 0) {
        if (!enterNamespaces(plan, devnull))
            ::_exit(1);
        int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ::_exit(fd >= 0 ? 0 : 1);
    }
    ::close(devnull);
    int status = 0;
    bool ok = pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
              fs::exists(base / "upper" / "probe", ec);
    ::chmod((base / "work" / "work").c_str(), 0700); // overlayfs leaves it mode 000
    fs::remove_all(base, ec);
    return ok;
}

} // namespace

SnapshotMode probeSnapshotMode(const fs::path& scratch)
{
    if (const char* forced = std::getenv("CACHESCOPE_SNAPSHOT_MODE")) {
        std::string f = forced;
        if (f == "overlay")
            return SnapshotMode::Overlay;
        if (f == "userns")
            return SnapshotMode::OverlayInUserNamespace;
        if (f == "copy")
            return SnapshotMode::Copy;
    }
    if (::geteuid() == 0 && tryOverlay(scratch, false))
        return SnapshotMode::Overlay;
    if (::geteuid() != 0 && tryOverlay(scratch, true))
        return SnapshotMode::OverlayInUserNamespace;
    return SnapshotMode::Copy;
}

SnapshotMode detectSnapshotMode()
{
    static std::once_flag once;
    static SnapshotMode mode = SnapshotMode::Copy;
    std::call_once(once, [] { mode = probeSnapshotMode(fs::temp_directory_path()); });
    return mode;
}

} // namespace cachescope::exec
