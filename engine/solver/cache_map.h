#pragma once
// BuildKit's CacheMap of an op: the exact plaintext its definition digest D is computed from,
// and for each input the link selector and whether a content (slow) key is computed for it.
// Byte-exact with BuildKit v0.24 (solver/llbsolver/ops/{exec,file,merge,source}.go).
#include "oci/digest.h"
#include "solver/content_selector.h"
#include "solver/exec_op.h"
#include "solver/file_op.h"
#include "solver/merge_op.h"
#include "solver/source_op.h"

#include <string>
#include <vector>

namespace cachescope::solver {

struct CacheMapDep {
    // The bytes hashed into `selector` (NUL-joined paths); empty when the link has no selector.
    std::string selectorPlaintext;
    oci::Digest selector;
    // A content key is computed for this input once its result exists.
    bool contentBased = false;
    // Selectors of that content key; empty means the whole input ("/", links not followed).
    std::vector<ContentSelector> contentSelectors;
};

struct CacheMap {
    std::string plaintext; // exact bytes hashed into `digest`
    oci::Digest digest;    // D
    // For image keys: the JSON hashed into the manifest key k (else empty).
    std::string keyPlaintext;
    // Local sources get a random key: `digest` is what BuildKit hashes, but the key it stores
    // is random:<hex>, never matched across builds and never exported.
    bool random = false;
    std::vector<CacheMapDep> deps; // one per op input

    // Record digest sha256("<D>@<output>") of this op's output.
    oci::Digest record(int output = 0) const;
};

// sha256("<opDigest>@<output>"): the digest of a cache record (output -1 for content keys).
oci::Digest recordDigest(const oci::Digest& opDigest, int output);

CacheMap cacheMap(const ExecOp& op);
CacheMap cacheMap(const FileOp& op);
CacheMap cacheMap(const MergeOp& op);
// Two maps: [0] manifest key (digest + platform), [1] layer chain-ID key (falls back to [0]'s
// key when the image has no layers).
std::vector<CacheMap> cacheMaps(const ImageSource& image);
CacheMap cacheMap(const LocalSource& local);

// The plaintext and digest of a content key over per-selector checksums (in selector order):
// sha256(join(checksums, "\0")); its record is recordDigest(digest, -1).
struct ContentKeyDigest {
    std::string plaintext;
    oci::Digest digest;
    oci::Digest record;
};
ContentKeyDigest contentKeyDigest(const std::vector<oci::Digest>& checksums);

// BuildKit's dedupePaths: drops duplicates and paths below another selected directory; sorted.
std::vector<std::string> dedupePaths(std::vector<std::string> paths);
// BuildKit's dedupeSelectors (file op): plain paths deduplicated per follow-links flag,
// wildcard/filtered selectors kept, everything sorted by path.
std::vector<ContentSelector> dedupeSelectors(const std::vector<ContentSelector>& selectors);

} // namespace cachescope::solver
