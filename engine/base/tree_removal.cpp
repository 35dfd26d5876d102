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

// Lists the tree below `dir` without following symlinks: files (anything but a directory) and
// directories, parents before children.
void walk(const std::string& dir, std::vector<std::string>& files, std::vector<std::string>& dirs)
{
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return;
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
        (isDir ? dirs : files).push_back(std::move(path));
    }
    ::closedir(d);
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
        std::vector<std::string> files, dirs{root.string()};
        for (std::size_t i = 0; i < dirs.size(); ++i)
            walk(dirs[i], files, dirs);

        std::atomic<std::size_t> next{0};
        std::atomic<bool> ok{true};
        const auto unlinkSome = [&] {
            for (std::size_t i; (i = next.fetch_add(1)) < files.size();)
                if (::unlink(files[i].c_str()) != 0 && errno != ENOENT)
                    ok = false;
        };
        std::vector<std::jthread> threads;
        const std::size_t extra = std::min<std::size_t>(workers > 0 ? workers - 1 : 0, files.size() / 64);
        for (std::size_t t = 0; t < extra; ++t)
            threads.emplace_back(unlinkSome);
        unlinkSome();
        threads.clear(); // joins

        // Children were listed after their parents: the reverse order removes them first.
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
            if (::rmdir(it->c_str()) != 0 && errno != ENOENT)
                ok = false;
        return ok;
    } catch (...) {
        // Out of memory or threads: the plain way.
        std::error_code ec;
        fs::remove_all(root, ec);
        return !ec;
    }
}

} // namespace cachescope
