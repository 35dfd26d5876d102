#pragma once
// Runs an LLB file op (COPY/ADD, WORKDIR, heredoc files) the way BuildKit's file op backend does,
// writing only what changes into a diff directory over the op's base tree (directories the op
// writes into are copied up with their metadata, as overlayfs would). The diff becomes the step's
// layer; applied over the base it gives the same files, modes and owners as BuildKit.
#include "exec/owner.h"
#include "exec/snapshot.h"
#include "solver/file_op.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cachescope::exec {

struct FileOpInput {
    Snapshot tree;                // no layers: scratch
    // The build context as the client sends it: every file owned by 0:0.
    bool contextOwners = false;
    // Paths the client would not send (.dockerignore), relative ("a/b.txt").
    std::function<bool(const std::string& relPath, bool isDir)> excluded;
};

struct FileOpResult {
    std::uint64_t bytes = 0;  // file data written
    std::uint64_t entries = 0;
    // Owners that could not be applied on disk (not root): feed to LayerWriterOptions::owners.
    OwnerMap owners;
};

// Runs the actions of `op` (inputs indexed as the op's inputs) and writes the result of output 0
// into `diffDir` (created, must be empty) as a diff over the first action's input. Throws Error
// naming the action and the path: "COPY /x.txt: not found", "mkfile /a/b: parent is not a directory".
FileOpResult runFileOp(const solver::FileOp& op, const std::vector<FileOpInput>& inputs,
                       const std::filesystem::path& diffDir);

} // namespace cachescope::exec
