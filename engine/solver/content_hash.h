#pragma once
// Content checksums of a directory tree, byte-exact with BuildKit v0.24's cache/contenthash:
// tarsum-v1 style file headers (mode incl. setuid/setgid/sticky, uid, gid, size, type, link
// target, device numbers, filtered xattrs; no mtime, no name), recursive directory digests,
// symlink following, wildcard and include/exclude selectors, and the content key
// C = sha256(join(per-selector checksums, "\0")) with record sha256("<C>@-1").
#include "oci/digest.h"
#include "solver/cache_map.h"
#include "solver/content_selector.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace cachescope::solver {

// The header fields BuildKit hashes in front of a file's bytes.
struct FileHeader {
    std::uint32_t mode = 0; // permission bits plus setuid 04000, setgid 02000, sticky 01000
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t size = 0;  // regular files only, else 0
    char typeflag = '0';    // '0' file, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
    std::string linkname;
    std::uint32_t devmajor = 0;
    std::uint32_t devminor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs; // sorted by key, already filtered
};

// "name" "" "mode" <dec> "uid" … "devminor" <dec>, then each xattr key + value.
std::string tarsumHeader(const FileHeader& h);
// Which xattrs BuildKit keeps: not security.* (except security.capability), not system.*.
bool keepXattr(const std::string& key);

enum class ScanMode {
    // The build context as the BuildKit client sends it: uid/gid 0, root header sha256("").
    BuildContext,
    // A stage's snapshot (COPY --from, RUN --mount=from=…): real stat, root header hashed too.
    Snapshot,
};

struct ScanOptions {
    ScanMode mode = ScanMode::BuildContext;
    // Paths the client would not send (.dockerignore), relative ("a/b.txt"); an excluded
    // directory is skipped with everything below it.
    std::function<bool(const std::string& relPath, bool isDir)> excluded;
    unsigned threads = 0;       // hashing threads; 0 = one per core
    bool keepPlaintexts = false; // remember the bytes behind every digest (for display and tests)
    // A persistent stat cache (solver/stat_cache.h): files whose stat is unchanged are not read again.
    // Empty: none. saveStatCache() writes it back.
    std::filesystem::path statCacheFile;
    // Files changed less than this long before the scan started are not stored in the stat cache
    // (timestamp granularity: a second change within one tick would leave the stat unchanged).
    std::int64_t racyWindowNs = 2'000'000'000;
    // Polled per directory listed and per file hashed (also by later checksum calls of the tree):
    // when stop is requested, the scan or checksum throws OperationCancelled.
    std::stop_token cancel;
};

// One entry of a tree as a selector covers it (for context manifests).
struct TreeEntry {
    std::string path;       // relative to the root, slash-separated ("src/a.txt")
    char typeflag = '0';    // '0' file, '2' symlink, '5' dir, other tar types
    std::uint32_t mode = 0; // permission bits incl. setuid/setgid/sticky
    std::int64_t size = 0;  // regular files
    std::string linkname;
    oci::Digest digest;     // files and symlinks: the per-file checksum (header + content)
};

// The per-selector checksums of one content key, and the key itself.
struct ContentKey {
    std::vector<ContentSelector> selectors; // in hashing order
    std::vector<oci::Digest> checksums;
    ContentKeyDigest key;
};

// A scanned directory tree (one input's files). File contents are hashed lazily, in parallel,
// the first time a checksum needs them; results are memoised.
class ContentTree {
public:
    // Walks `root` (lstat, no symlink following). Throws Error naming the path on I/O failure.
    static ContentTree scan(const std::filesystem::path& root, ScanOptions options = {});

    ContentTree(ContentTree&&) noexcept;
    ContentTree& operator=(ContentTree&&) noexcept;
    ~ContentTree();

    // contenthash.Checksum(ref, path, opts) for one selector. Throws Error when a plain
    // (non-wildcard) path does not exist.
    oci::Digest checksum(const ContentSelector& selector);
    // The content key over selectors as BuildKit's content hash function gets them (already
    // deduplicated and sorted by the CacheMap); an empty list covers the whole tree.
    ContentKey contentKey(const std::vector<ContentSelector>& selectors);

    // The bytes hashed into `digest`, when keepPlaintexts was set and this tree produced it
    // (file header without content, directory or wildcard file-list).
    std::optional<std::string> plaintext(const oci::Digest& digest) const;
    std::size_t entryCount() const;

    // The entries a selector covers (a plain path: it and everything below it, after resolving
    // symlinks in its parents; wildcards and include/exclude patterns filter that), digests computed.
    std::vector<TreeEntry> entries(const ContentSelector& selector);
    // The checksum a regular file would have with permission bits `mode` instead of its own: tells a
    // mode-only change from a content change when only the old checksum and mode are known.
    oci::Digest checksumWithMode(const std::string& relPath, std::uint32_t mode);

    // Stat cache use: files served from it, files read and hashed.
    std::size_t statCacheHits() const;
    std::size_t filesHashed() const;
    // Writes the stat cache (when ScanOptions::statCacheFile is set): every file hashed or confirmed
    // by this tree, except racy ones. Throws Error when the file cannot be written.
    void saveStatCache();

private:
    struct Impl;
    explicit ContentTree(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace cachescope::solver
