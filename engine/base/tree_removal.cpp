#include "base/tree_removal.h"

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cachescope {

namespace fs = std::filesystem;

namespace {

struct Listing {
    // Anything but a directory, one group per directory: a thread empties a whole directory, as
    // threads unlinking in the same directory would queue on its lock.
    std::vector<std::vector<std::string>> files;
    std::vector<std::vector<std::string>> levels; // directories by depth, the root alone at 0
};

// Lists the tree below the directory at `levels[depth]` without following symlinks.
void walk(const std::string& dir, std::size_t depth, Listing& out)
{
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return;
    std::vector<std::string> files;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        std::string path = dir + "/" + name;
        bool isDir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st {};
            isDir = ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (!isDir) {
            files.push_back(std::move(path));
            continue;
        }
        if (out.levels.size() <= depth + 1)
            out.levels.resize(depth + 2);
        out.levels[depth + 1].push_back(std::move(path));
    }
    ::closedir(d);
    if (!files.empty())
        out.files.push_back(std::move(files));
}

// Runs remove(path) over the paths of all groups, a group at a time on each of up to `workers`
// threads; false when one failed.
template <typename Remove>
bool removeAll(const std::vector<std::vector<std::string>>& groups, unsigned workers, Remove remove)
{
    std::atomic<std::size_t> next{0};
    std::atomic<bool> ok{true};
    const auto some = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < groups.size();)
            for (const std::string& path : groups[i])
                if (remove(path.c_str()) != 0 && errno != ENOENT)
                    ok = false;
    };
    {
        std::vector<std::jthread> threads;
        const std::size_t extra = std::min<std::size_t>(workers > 0 ? workers - 1 : 0, groups.size() - std::min<std::size_t>(groups.size(), 1));
        for (std::size_t t = 0; t < extra; ++t)
            threads.emplace_back(some);
        some();
    }
    return ok;
}

} // namespace

bool removeTree(const fs::path& root, unsigned workers) noexcept
{
    try {
        struct stat st {};
        if (::lstat(root.c_str(), &st) != 0)
            return errno == ENOENT;
        if (!S_ISDIR(st.st_mode))
            return ::unlink(root.c_str()) == 0;
        Listing listing;
        listing.levels.push_back({root.string()});
        for (std::size_t depth = 0; depth < listing.levels.size(); ++depth)
            for (std::size_t i = 0; i < listing.levels[depth].size(); ++i) {
                const std::string dir = listing.levels[depth][i]; // walk() may grow `levels`
                walk(dir, depth, listing);
            }
        bool ok = removeAll(listing.files, workers, ::unlink);
        // Directories of one level have different parents: one each.
        for (auto level = listing.levels.rbegin(); level != listing.levels.rend(); ++level) {
            std::vector<std::vector<std::string>> single;
            for (std::string& dir : *level)
                single.push_back({std::move(dir)});
            ok = removeAll(single, workers, ::rmdir) && ok;
        }
        return ok;
    } catch (...) {
        // Out of memory or threads: the plain way.
        std::error_code ec;
        fs::remove_all(root, ec);
        return !ec;
    }
}

} // namespace cachescope
