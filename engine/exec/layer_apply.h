#pragma once
// Unpacking an OCI/Docker layer blob onto a directory, safely and in a streaming way.
// No entry lands outside the target; OCI whiteouts delete what lower layers put there.
#include "exec/owner.h"
#include "oci/digest.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::exec {

struct LayerApplyOptions {
    // Hash the blob while reading it and fail (after the fact) when it is not `digest`.
    bool verifyDigest = true;
    // At most this many notes are kept; the rest are counted in the last one.
    std::size_t maxNotes = 50;
    // When set, only the entries it keeps are written (whiteouts still apply): a partial unpack for
    // a reader that needs a few paths. It gets clean relative paths ("deps/done.txt").
    std::function<bool(const std::string& path)> keep;
};

struct LayerApplyResult {
    oci::Digest blobDigest;      // sha256 of the bytes read
    std::uint64_t entries = 0;   // tar entries seen (whiteouts included)
    std::uint64_t bytes = 0;     // file data written
    // What could not be done as asked, unprivileged: "device dev/null skipped (not permitted)",
    // "xattr security.capability on bin/ping skipped".
    std::vector<std::string> notes;
    // Owners the layer asked for that chown could not apply (path relative to the target).
    // Feed these to OwnerMap::byPath when the tree becomes a layer again.
    std::unordered_map<std::string, Owner> unappliedOwners;
};

// Applies the layer at `blob` (tar, gzip or zstd; magic bytes decide) onto `target`, which is
// created when missing. Errors name the layer and the entry:
//   layer sha256:ab…: entry "../../etc/passwd" escapes the root
// An entry refused this way stops the apply before anything is written for it; the target
// may hold the entries before it and must be discarded by the caller.
LayerApplyResult applyLayer(const std::filesystem::path& blob, std::string_view mediaType,
                            const oci::Digest& digest, const std::filesystem::path& target,
                            const LayerApplyOptions& options = {});

} // namespace cachescope::exec
