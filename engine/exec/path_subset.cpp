#include "exec/path_subset.h"

namespace cachescope::exec {

namespace fs = std::filesystem;

std::optional<PathSubset> PathSubset::of(const std::vector<std::string>& paths)
{
    PathSubset s;
    for (const std::string& raw : paths) {
        std::string p = fs::path(raw).lexically_normal().relative_path().generic_string();
        while (p.ends_with('/'))
            p.pop_back();
        if (p.empty() || p == "." || p == ".." || p.starts_with("../") || p.find_first_of("*?[\\") != std::string::npos)
            return std::nullopt;
        s.paths_.push_back(std::move(p));
    }
    if (s.paths_.empty())
        return std::nullopt;
    return s;
}

bool PathSubset::keeps(const std::string& rel) const
{
    for (const std::string& p : paths_) {
        const std::string& shorter = rel.size() < p.size() ? rel : p;
        const std::string& longer = rel.size() < p.size() ? p : rel;
        if (longer.starts_with(shorter) && (longer.size() == shorter.size() || longer[shorter.size()] == '/'))
            return true; // the path itself, below it, or a directory above it
    }
    return false;
}

bool PathSubset::crossesSymlink(const fs::path& root) const
{
    for (const std::string& p : paths_) {
        fs::path at = root;
        for (const auto& part : fs::path(p)) {
            at /= part;
            if (fs::is_symlink(fs::symlink_status(at)))
                return true;
        }
    }
    return false;
}

} // namespace cachescope::exec
