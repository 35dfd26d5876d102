#pragma once
// Removing a large scratch tree quickly. Unlinking a file waits for the filesystem to release its
// blocks (synchronously on a disk mounted with `discard`), so one thread spends most of its time
// waiting: several unlink at once, then the directories go deepest first.
#include <filesystem>

namespace cachescope {

// Removes `root` and everything below it, never following symlinks, with `workers` threads
// unlinking files. Whatever cannot be removed is left in place (as std::filesystem::remove_all
// with an error_code would); returns false then.
bool removeTree(const std::filesystem::path& root, unsigned workers = 4) noexcept;

} // namespace cachescope
