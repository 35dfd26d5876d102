#pragma once
// A snapshot is a stack of directory trees (bottom first): a flattened base and the diffs of
// the steps above it. SnapshotView reads the merged tree without mounting anything.
#include "exec/path_subset.h"
#include "exec/tree_copy.h"
#include "exec/whiteout.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cachescope::exec {

struct SnapshotLayer {
    std::filesystem::path dir;
    WhiteoutFormat format = WhiteoutFormat::Overlay;
};

struct Snapshot {
    std::vector<SnapshotLayer> layers; // bottom first

    Snapshot with(SnapshotLayer top) const
    {
        Snapshot s = *this;
        s.layers.push_back(std::move(top));
        return s;
    }
};

class SnapshotView {
public:
    explicit SnapshotView(Snapshot snapshot) : snapshot_(std::move(snapshot)) {}

    // Where `rel` ("etc/passwd", no leading slash) lives in the merged tree: the top-most layer
    // holding it, or nullopt when it is absent or deleted. Symlinks in parents are not followed.
    std::optional<std::filesystem::path> find(const std::string& rel) const;
    // The merged children of a directory: name -> host path of the visible entry.
    std::map<std::string, std::filesystem::path> list(const std::string& relDir) const;
    // Copies the merged tree into `dest` (created), applying whiteouts. CopyMode::Link shares the
    // layers' inodes: the result must only be read, or changed by replacing entries. With a subset,
    // only its part of the tree.
    void materialize(const std::filesystem::path& dest, CopyMode mode = CopyMode::Copy,
                     const PathSubset* subset = nullptr) const;

    const Snapshot& snapshot() const { return snapshot_; }

private:
    enum class State { Absent, Present, Hidden };
    State stateIn(const SnapshotLayer& layer, const std::string& rel, std::filesystem::path* where) const;
    void materializeDir(const std::string& rel, const std::filesystem::path& dest, TreeCopier& copier,
                        const PathSubset* subset) const;

    Snapshot snapshot_;
};

} // namespace cachescope::exec
