#include "support/tree_snapshot.h"

#include "base/files.h"
#include "oci/digest.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace cachescope::test {

namespace fs = std::filesystem;

std::map<std::string, std::string> describeTree(const fs::path& root, bool withOwners)
{
    std::map<std::string, std::string> out;
    std::map<std::pair<dev_t, ino_t>, std::string> firstName; // smallest name per inode
    std::map<std::string, std::pair<dev_t, ino_t>> linked;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path p = it->path();
        const std::string rel = fs::relative(p, root).string();
        struct stat st {};
        ::lstat(p.c_str(), &st);
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        std::string line;
        if (S_ISDIR(st.st_mode)) {
            line = "dir ";
        } else if (S_ISLNK(st.st_mode)) {
            line = "link -> " + fs::read_symlink(p).string() + " ";
        } else if (S_ISREG(st.st_mode)) {
            line = "reg " + oci::Digest::of(readFile(p)).shortForm() + " ";
            if (st.st_nlink > 1) {
                auto key = std::make_pair(st.st_dev, st.st_ino);
                auto [f, inserted] = firstName.emplace(key, rel);
                if (!inserted && rel < f->second)
                    f->second = rel;
                linked[rel] = key;
            }
            line += "mtime=" + std::to_string(st.st_mtim.tv_sec) + " ";
        } else if (S_ISCHR(st.st_mode)) {
            line = "chr " + std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev)) + " ";
        } else {
            line = "other ";
        }
        if (!S_ISLNK(st.st_mode))
            line += mode;
        if (withOwners)
            line += " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
        out[rel] = line;
    }
    // Only links within the tree count (a file may also be linked from elsewhere).
    std::map<std::pair<dev_t, ino_t>, int> members;
    for (const auto& [rel, key] : linked)
        ++members[key];
    for (const auto& [rel, key] : linked)
        if (members[key] > 1)
            out[rel] += " links-with=" + firstName[key];
    return out;
}

std::string treeDifference(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b)
{
    std::string diff;
    for (const auto& [k, v] : a) {
        auto it = b.find(k);
        if (it == b.end())
            diff += "only in first: " + k + " (" + v + ")\n";
        else if (it->second != v)
            diff += "differs: " + k + ": " + v + " vs " + it->second + "\n";
    }
    for (const auto& [k, v] : b)
        if (!a.count(k))
            diff += "only in second: " + k + " (" + v + ")\n";
    return diff;
}

} // namespace cachescope::test
