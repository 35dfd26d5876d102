#pragma once
// Copying trees with their metadata (owners when permitted, modes, mtimes, xattrs, symlinks,
// hardlinks within the copy, devices when permitted): the snapshot fallback without overlayfs.
#include <filesystem>
#include <map>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace cachescope::exec {

// How non-directory entries reach the copy. Linked entries share their inode with the source:
// only for copies that are read (content scans, overlay lower dirs) or changed by replacing
// entries, never by writing into them.
enum class CopyMode { Copy, Link };

class TreeCopier {
public:
    explicit TreeCopier(CopyMode mode = CopyMode::Copy) : mode_(mode) {}
    // Copies one node (not following symlinks); directories are created empty, their
    // metadata applied by finish() so that filling them does not change their mtime.
    void copyNode(const std::filesystem::path& src, const struct stat& st, const std::filesystem::path& dst);
    // Copies a whole tree (src itself becomes dst).
    void copyTree(const std::filesystem::path& src, const std::filesystem::path& dst);
    // Applies pending directory modes and mtimes, deepest first.
    void finish();

private:
    struct PendingDir {
        std::filesystem::path path;
        mode_t mode;
        struct timespec mtime;
    };
    CopyMode mode_;
    std::map<std::pair<dev_t, ino_t>, std::filesystem::path> links_;
    std::vector<PendingDir> dirs_;
};

// Copies the extended attributes (not overlayfs' own), best effort.
void copyXattrs(const std::filesystem::path& src, const std::filesystem::path& dst);

// Copies file metadata that is not the content: owner (when permitted), mode, xattrs, mtime.
void copyMetadata(const std::filesystem::path& src, const struct stat& st, const std::filesystem::path& dst);

} // namespace cachescope::exec
