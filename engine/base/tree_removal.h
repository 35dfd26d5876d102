#pragma once
// Removing a scratch tree quickly. Unlinking a file or removing a directory can wait for the disk
// (on a filesystem mounted with `discard`, each freed block is discarded before the call returns:
// milliseconds per entry on some virtual disks), so one thread spends its time waiting. Several
// threads unlink the files, then remove the directories, deepest level first.
#include <filesystem>

namespace cachescope {

// Removes `root` and everything below it, never following symlinks, with up to `workers` threads.
// Whatever cannot be removed is left in place (as std::filesystem::remove_all with an error_code
// would); returns false then.
bool removeTree(const std::filesystem::path& root, unsigned workers = 8) noexcept;

} // namespace cachescope
