#pragma once
// How this machine gives a step a writable root over its parent snapshot, found by trying.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::exec {

enum class SnapshotMode {
    Overlay,                // overlayfs mounted as root (in a private mount namespace)
    OverlayInUserNamespace, // overlayfs in a user + mount namespace (ordinary user, kernel >= 5.11)
    Copy,                   // copy the parent tree, diff by comparing afterwards
};

std::string_view toString(SnapshotMode mode);

// Tries the modes in order with a tiny overlay under `scratch` in a child process (nothing is
// left mounted). CACHESCOPE_SNAPSHOT_MODE=overlay|userns|copy forces one.
SnapshotMode probeSnapshotMode(const std::filesystem::path& scratch);
// probeSnapshotMode under the temp directory, once per process.
SnapshotMode detectSnapshotMode();

// The kernel takes mount options of at most one page.
inline constexpr std::size_t kMaxMountOptions = 4095;

// The overlay mount options for these lowers (top first), with userxattr in a user namespace.
// Throws when they exceed kMaxMountOptions (overlayOptionsFit says so beforehand).
std::string overlayOptions(const std::vector<std::filesystem::path>& lowersTopFirst,
                           const std::filesystem::path& upper, const std::filesystem::path& work,
                           bool userNamespace);
bool overlayOptionsFit(const std::vector<std::filesystem::path>& lowersTopFirst, const std::filesystem::path& upper,
                       const std::filesystem::path& work, bool userNamespace);

} // namespace cachescope::exec
