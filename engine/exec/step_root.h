#pragma once
// The writable root of one step over its parent snapshot, and the step's diff afterwards.
//   overlay modes: <dir>/upper and <dir>/work; the sandbox mounts <dir>/merged in its own
//                  mount namespace, so nothing stays mounted when it exits.
//   copy mode:     <dir>/rootfs is a copy of the parent; finish() compares the two into <dir>/diff.
#include "exec/snapshot.h"
#include "exec/snapshot_mode.h"

#include <filesystem>
#include <string>
#include <vector>

namespace cachescope::exec {

class StepRoot {
public:
    // Creates `dir` (which must not hold an earlier step) and prepares the writable root.
    static StepRoot prepare(Snapshot parent, std::filesystem::path dir, SnapshotMode mode);

    SnapshotMode mode() const { return mode_; }
    bool usesOverlay() const { return mode_ != SnapshotMode::Copy; }
    const Snapshot& parent() const { return parent_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path upperDir() const { return dir_ / "upper"; }
    std::filesystem::path workDir() const { return dir_ / "work"; }
    std::filesystem::path mergedDir() const { return dir_ / "merged"; }
    std::filesystem::path rootfsDir() const { return dir_ / "rootfs"; }
    std::filesystem::path diffDir() const { return dir_ / "diff"; }
    // overlay modes: the parent flattened into one lower directory, used when its layers are too
    // many for one mount's options (the kernel takes a page).
    std::filesystem::path flatLowerDir() const { return dir_ / "flat"; }

    // Mount options for the merged tree (overlay modes).
    std::string overlayOptions() const;
    // Whether `rel` exists in the step's root now (the parent view plus what the step wrote).
    bool exists(const std::string& rel) const;
    // Removes `rel` from what the step wrote when it is an empty file or directory
    // (a mount point the sandbox had to create). Returns whether it did.
    bool removeStub(const std::string& rel) const;
    // The step's diff: the upper directory (overlay whiteouts) or the compared copy (OCI whiteouts).
    SnapshotLayer finish() const;

private:
    std::vector<std::filesystem::path> lowerDirsTopFirst() const;

    StepRoot(Snapshot parent, std::filesystem::path dir, SnapshotMode mode)
        : parent_(std::move(parent)), dir_(std::move(dir)), mode_(mode)
    {
    }
    Snapshot parent_;
    std::filesystem::path dir_;
    SnapshotMode mode_;
    bool flattened_ = false;
};

// Compares `work` with the merged `lower` and writes the difference to `out` as an OCI-style
// diff: changed and new entries (files hard-linked from `work` when possible), deletions as
// ".wh.<name>" files.
void diffTrees(const SnapshotView& lower, const std::filesystem::path& work, const std::filesystem::path& out);

} // namespace cachescope::exec
