#pragma once
// Small filesystem helpers with the guarantees the stores rely on:
// reads name the file in their errors, writes are atomic (temp file + rename).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace cachescope {

// Reads a whole file. Throws Error naming the path when it is missing, unreadable
// or larger than maxBytes.
std::string readFile(const std::filesystem::path& path, std::uintmax_t maxBytes = UINTMAX_MAX);

// Writes bytes to a temporary file beside `path`, flushes it to disk, then renames it over `path`.
// Readers see either the old file or the whole new one, never a half-written one.
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

// A unique temporary name in the directory of `path` ("<name>.tmp-<pid>-<n>").
std::filesystem::path temporarySibling(const std::filesystem::path& path);

// Holds an exclusive flock on a lock file for its lifetime; the file stays (removing it would race).
class FileLock {
public:
    explicit FileLock(const std::filesystem::path& lockFile);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

// $XDG_DATA_HOME/cachescope, or ~/.local/share/cachescope (the same place QStandardPaths picks).
std::filesystem::path defaultDataDir();

} // namespace cachescope
