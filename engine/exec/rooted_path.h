#pragma once
// Path resolution confined to a root directory, for writing untrusted layer entries.
// Symlinks met in parent components are followed only inside the root: an absolute link
// target is taken relative to the root (as in a chroot), a relative one that climbs above
// the root is refused. The last component is never followed; callers replace it.
#include "base/error.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::exec {

// Thrown when a name or link would leave the root; what() is the reason alone
// ("escapes the root"), callers prefix the layer and the entry.
class PathEscape : public Error {
public:
    using Error::Error;
};

// Lexically cleans a layer entry name: drops "./" and empty components, folds "a/../b".
// Throws PathEscape for absolute names and names that climb above the root.
// Returns "" for the root itself.
std::string cleanEntryName(std::string_view name);

// Splits "a/b/c" into {"a","b","c"} (no empty parts).
std::vector<std::string> splitPath(std::string_view path);

class RootedPath {
public:
    explicit RootedPath(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }

    // The real directory that holds the last component of `clean` (a cleanEntryName result),
    // with every symlink in between resolved inside the root. Missing directories are created
    // (mode 0755) when createMissing; otherwise an empty path is returned for them.
    // Throws PathEscape when a link leaves the root, Error when a parent is not a directory.
    std::filesystem::path resolveParent(const std::string& clean, bool createMissing) const;

    // resolveParent + the last component: where the entry itself lives (not followed).
    std::filesystem::path resolveEntry(const std::string& clean, bool createMissing) const;

private:
    std::filesystem::path root_;
};

} // namespace cachescope::exec
