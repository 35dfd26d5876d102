#pragma once
// The part of a tree that a reader names by plain paths ("deps/done.txt", "out"): the paths, what
// is below them and the directories above them. Unpacking or linking only that part is enough
// unless a symlink on the way points elsewhere in the tree.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::exec {

class PathSubset {
public:
    // Paths are absolute or relative inside the tree. nullopt when one of them names the root or
    // holds a wildcard: then the reader needs the whole tree.
    static std::optional<PathSubset> of(const std::vector<std::string>& paths);

    // `rel` is clean and relative ("a/b").
    bool keeps(const std::string& rel) const;
    // A component of one of the paths (the last one included) is a symlink in `root`: what it
    // points at may lie outside the subset.
    bool crossesSymlink(const std::filesystem::path& root) const;

private:
    std::vector<std::string> paths_; // clean, relative, no trailing slash
};

} // namespace cachescope::exec
