#pragma once
// A persistent stat cache for context checksums: absolute path -> (device, inode, size, mtime, ctime,
// mode, header) -> the file's checksum, so re-checking an unchanged context reads no file contents.
// Any change of content or metadata moves ctime (it cannot be set from user space), so a file whose
// stat tuple is unchanged has unchanged bytes, with one exception the save rule removes: a file
// modified within the same timestamp tick as its recorded ctime ("racy", as git calls it). Entries are
// only stored when their ctime is older than the scan's start by more than the racy window; younger
// files are hashed again next time (and stored then).
#include "oci/digest.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

namespace cachescope::solver {

struct StatKey {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::int64_t size = 0;
    std::int64_t mtimeNs = 0;
    std::int64_t ctimeNs = 0;
    std::uint32_t mode = 0;     // st_mode: type and permission bits
    std::uint64_t headerHash = 0; // FNV-1a of the tarsum header (owner, xattrs, scan mode)
    bool operator==(const StatKey&) const = default;
};

std::uint64_t fnv1a64(std::string_view bytes);

class StatCache {
public:
    StatCache() = default;
    // Loads `file` when it exists; a missing, truncated or foreign file gives an empty cache.
    explicit StatCache(std::filesystem::path file);
    // An empty cache that save() writes to `file` (replacing what is there).
    struct Empty {};
    StatCache(std::filesystem::path file, Empty) : file_(std::move(file)) {}

    std::optional<oci::Digest> lookup(const std::string& path, const StatKey& key) const;
    void put(const std::string& path, const StatKey& key, const oci::Digest& digest);
    std::size_t size() const { return entries_.size(); }
    // Writes the entries whose ctime is older than `trustBeforeNs` (atomic replace).
    void save(std::int64_t trustBeforeNs) const;

    // <dataDir>/statcache/<sha256 of the absolute root>.bin
    static std::filesystem::path defaultFile(const std::filesystem::path& root, const std::filesystem::path& dataDir);

private:
    struct Entry {
        StatKey key;
        oci::Digest digest;
    };
    std::filesystem::path file_;
    std::unordered_map<std::string, Entry> entries_;
};

} // namespace cachescope::solver
